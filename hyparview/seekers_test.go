package hyparview

import (
	"errors"
	"testing"
	"time"

	pb "github.com/hearsay-mesh/hearsay/hyparview/pb"
	"github.com/hearsay-mesh/hearsay/membership"
)

// refusalHint steps a low-priority NEIGHBOR from `from` into the full core h
// at now and returns the hint its refusal names ("" for none).
func refusalHint(t *testing.T, h *HyParView, now time.Duration, from string) string {
	t.Helper()
	if err := h.Step(now, membership.NodeID(from), neighborMsg(nodeRec(from), false)); err != nil {
		t.Fatal(err)
	}
	for _, s := range h.Ready().Sends {
		env := s.Msg.(*pb.Envelope)
		if string(s.To) != from || kind(env) == "?" {
			continue
		}
		if kind(env) != "reject" {
			t.Fatalf("answer to %s: %s, want a refusal (view full)", from, kind(env))
		}
		if hint := env.GetNeighborReply().GetHint(); hint != nil {
			return string(hint.Id)
		}
		return ""
	}
	t.Fatalf("no answer to %s", from)
	return ""
}

// A full node refusing a requester names the previous one it refused
// lately, each at most once, never the requester itself, and none refused
// more than a ShuffleInterval ago.
func TestRefusalNamesAnotherRoomSeeker(t *testing.T) {
	cfg := testConfig()
	h := connected(t, cfg, "a", "b", "c")
	now := time.Second
	if got := refusalHint(t, h, now, "r1"); got != "" {
		t.Fatalf("first refusal names %q; no seeker was known", got)
	}
	if got := refusalHint(t, h, now, "r1"); got != "" {
		t.Fatalf("refusal names %q to r1 asking again; want nothing (only r1 is known)", got)
	}
	if got := refusalHint(t, h, now, "r2"); got != "r1" {
		t.Fatalf("second seeker told %q, want r1", got)
	}
	if got := refusalHint(t, h, now, "r3"); got != "r2" {
		t.Fatalf("third seeker told %q, want r2 (r1 was named already)", got)
	}
	later := now + cfg.ShuffleInterval + time.Millisecond
	if got := refusalHint(t, h, later, "r4"); got != "" {
		t.Fatalf("seeker told %q refused more than a ShuffleInterval ago", got)
	}
	if st := h.Stats(); st.HintsGiven != 2 || st.RequestsRefused != 5 {
		t.Fatalf("stats %+v, want 2 hints in 5 refusals", st)
	}
}

// A node with a free slot asks the seeker a refusal names at once, and
// refusals with a hint do not count towards the repair back-off (which
// would pause requests after ActiveSize refusals in a row).
func TestHintedSeekerAskedAtOnce(t *testing.T) {
	cfg := testConfig() // ActiveSize 3
	h := connected(t, cfg, "a", "b")
	step(t, h, "a", solicited(h, []*pb.Node{nodeRec("p0"), nodeRec("p1"), nodeRec("p2"), nodeRec("p3")}))
	now := time.Second
	h.Tick(now)
	lowRequests := func() []membership.NodeID {
		var to []membership.NodeID
		for _, s := range h.Ready().Sends {
			if kind(s.Msg.(*pb.Envelope)) == "neighbor-low" {
				to = append(to, s.To)
			}
		}
		return to
	}
	asked := lowRequests()
	if len(asked) != 1 {
		t.Fatalf("one free slot: requests to %v, want one", asked)
	}
	rounds := 3 * cfg.ActiveSize
	for i := range rounds {
		seeker := membership.NodeID("s" + string(rune('a'+i)))
		if err := h.Step(now, asked[0], refusalMsg(nodeRec(string(seeker)))); err != nil {
			t.Fatal(err)
		}
		asked = lowRequests()
		if len(asked) != 1 || asked[0] != seeker {
			t.Fatalf("refusal %d named %s; then asked %v, want exactly it", i, seeker, asked)
		}
	}
	if st := h.Stats(); st.HintsTaken != uint64(rounds) {
		t.Fatalf("stats %+v, want %d hints taken", st, rounds)
	}
}

// A hint naming the receiver, or a malformed one, is rejected before any
// state changes.
func TestBadHintRejected(t *testing.T) {
	cfg := testConfig()
	for name, hint := range map[string]*pb.Node{
		"self":     nodeRec("self"),
		"empty id": {},
	} {
		h := connected(t, cfg, "a")
		before := h.Stats()
		err := h.Step(time.Second, "a", refusalMsg(hint))
		if err == nil {
			t.Fatalf("%s: hint accepted", name)
		}
		if !errors.Is(err, ErrSelfReference) && !errors.Is(err, ErrBadNode) {
			t.Fatalf("%s: %v", name, err)
		}
		after := h.Stats()
		after.Malformed, after.Received = before.Malformed, before.Received
		if after != before {
			t.Fatalf("%s: state changed: %+v -> %+v", name, before, after)
		}
	}
}
