// The shared editor's page: it speaks JSON-RPC 2.0 over the editor's /ws
// relay to the local hearsay agent. Positions sent to the agent count
// Unicode code points; the textarea's selection counts UTF-16 units.
"use strict";

const ta = document.getElementById("text");
const statusLine = document.getElementById("status");
let key = "notes";
let ws = null;
let nextId = 1;
const pending = new Map(); // request id -> {resolve, reject}
let shadow = "";          // the text as the agent last had it, plus our edits since
let chain = Promise.resolve(); // our edits, sent one after the other
let inflight = 0;         // edits sent and not yet answered
let refreshWanted = false; // a remote change came while edits were in flight

function setStatus(text, bad) {
  statusLine.textContent = text;
  statusLine.className = bad ? "bad" : "";
}

function call(method, params) {
  return new Promise((resolve, reject) => {
    const id = nextId++;
    pending.set(id, { resolve, reject });
    ws.send(JSON.stringify({ jsonrpc: "2.0", id, method, params }));
  });
}

// commonEnds returns the lengths of the common prefix and suffix of a and b
// (arrays or strings), the suffix not overlapping the prefix.
function commonEnds(a, b) {
  let p = 0;
  while (p < a.length && p < b.length && a[p] === b[p]) p++;
  let s = 0;
  while (s < a.length - p && s < b.length - p && a[a.length - 1 - s] === b[b.length - 1 - s]) s++;
  return [p, s];
}

// onInput turns what the user changed since the last known text into one
// delete and one insert, and queues them for the agent.
function onInput() {
  const before = Array.from(shadow), after = Array.from(ta.value);
  const [p, s] = commonEnds(before, after);
  const del = before.length - p - s;
  const ins = after.slice(p, after.length - s).join("");
  shadow = ta.value;
  if (del > 0) send("text_delete", { key, pos: p, n: del });
  if (ins !== "") send("text_insert", { key, pos: p, text: ins });
}

function send(method, params) {
  inflight++;
  chain = chain
    .then(() => call(method, params))
    .catch((err) => setStatus("edit refused: " + err.message + " (reloading the text)", true))
    .finally(() => {
      inflight--;
      if (inflight === 0 && refreshWanted) refresh();
    });
}

// show replaces the textarea's text with the agent's, keeping the caret
// where it was relative to the text around it.
function show(text) {
  if (text === ta.value) { shadow = text; return; }
  const old = ta.value;
  const [p, s] = commonEnds(old, text);
  const move = (i) => (i <= p ? i : i >= old.length - s ? i + text.length - old.length : p + (text.length - p - s));
  const a = move(ta.selectionStart), b = move(ta.selectionEnd);
  ta.value = text;
  shadow = text;
  if (document.activeElement === ta) ta.setSelectionRange(a, b);
}

async function refresh() {
  refreshWanted = false;
  try {
    show(await call("text_get", { key }));
  } catch (err) {
    if (err.code === 1001) show(""); // the key does not exist (yet)
    else setStatus("cannot read " + key + ": " + err.message, true);
  }
}

function onChange(ch) {
  if (ch.key !== key || ch.origin === "local") return;
  if (inflight > 0) { refreshWanted = true; return; }
  if (ch.value && ch.value.type === "text") show(ch.value.value);
  else refresh(); // deleted, or too large to travel in the feed
}

function connect() {
  ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws");
  ws.onmessage = (e) => {
    const m = JSON.parse(e.data);
    if (m.id !== undefined && pending.has(m.id)) {
      const { resolve, reject } = pending.get(m.id);
      pending.delete(m.id);
      if (m.error) { const err = new Error(m.error.message); err.code = m.error.code; reject(err); }
      else resolve(m.result);
    } else if (m.method === "crdt_change") {
      onChange(m.params);
    }
  };
  ws.onopen = async () => {
    try {
      await call("crdt_subscribe", {});
      await refresh();
      ta.disabled = false;
      setStatus("editing “" + key + "” on the local agent");
    } catch (err) {
      setStatus("cannot follow " + key + ": " + err.message, true);
    }
  };
  ws.onclose = (e) => {
    ta.disabled = true;
    for (const { reject } of pending.values()) reject(new Error("connection closed"));
    pending.clear();
    setStatus("disconnected (" + (e.reason || e.code) + "); retrying…", true);
    setTimeout(connect, 1000);
  };
}

ta.addEventListener("input", onInput);
fetch("config.json")
  .then((r) => r.json())
  .then((c) => {
    key = new URLSearchParams(location.search).get("key") || c.key;
    document.title = key + " — hearsay shared editor";
    connect();
  });
