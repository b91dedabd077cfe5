package store

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/hearsay-mesh/hearsay/crdt"
	"github.com/hearsay-mesh/hearsay/crdt/text"
	"github.com/ipfs/go-datastore"
)

// Datastore layout (see docs/store.md). User keys and meta names are hex
// encoded, so any string is a valid datastore key and the order of records
// is the order of keys.
const (
	prefixRoot     = "/store"
	prefixRecord   = "/store/s"    // /store/s/<hex key> -> stored record (format 3: crdt.CompactV2)
	prefixRecordV2 = "/store/r"    // /store/r/<hex key> -> format-2 record (crdt.CompactV1), migrated by Open
	prefixRecordV1 = "/store/k"    // /store/k/<hex key> -> format-1 record, migrated by Open
	prefixNode     = "/store/n"    // /store/n/<16 hex digits number> -> node ID
	prefixChange   = "/store/c"    // /store/c/<16 hex digits seq> -> change JSON
	prefixMeta     = "/store/m"    // /store/m/<hex name> -> meta value
	keyFeed        = "/store/feed" // first and last seq of the feed, 2 x 8 bytes big-endian
	keyVersion     = "/store/version"
	formatVersion  = "3"
	formatV2       = "2" // read and migrated by Open
	formatV1       = "1" // read and migrated by Open
)

func recordKey(key string) datastore.Key {
	return recordKeyAt(prefixRecord, key)
}

func recordKeyV1(key string) datastore.Key {
	return recordKeyAt(prefixRecordV1, key)
}

// recordKeyAt is the datastore key of key's record under prefix (one of
// the record prefixes).
func recordKeyAt(prefix, key string) datastore.Key {
	return datastore.NewKey(prefix + "/" + hex.EncodeToString([]byte(key)))
}

func nodeKey(i uint64) datastore.Key {
	return datastore.NewKey(fmt.Sprintf("%s/%016x", prefixNode, i))
}

func changeKey(seq uint64) datastore.Key {
	return datastore.NewKey(fmt.Sprintf("%s/%016x", prefixChange, seq))
}

func metaKey(name string) datastore.Key {
	return datastore.NewKey(prefixMeta + "/" + hex.EncodeToString([]byte(name)))
}

// keyOfRecord returns the user key of a record's datastore key under
// prefix.
func keyOfRecord(k, prefix string) (string, error) {
	name, ok := strings.CutPrefix(k, prefix+"/")
	if !ok {
		return "", fmt.Errorf("%w: datastore key %q outside %s", ErrCorrupt, k, prefix)
	}
	b, err := hex.DecodeString(name)
	if err != nil {
		return "", fmt.Errorf("%w: datastore key %q: %v", ErrCorrupt, k, err)
	}
	return string(b), nil
}

// Canonical state and delta encoding versions (first byte).
const (
	recordVersion byte = 1
	deltaVersion  byte = 1
)

// encodeRecord returns a key's canonical state (State, Digest, and the
// format-1 record): version, the map's encoding, the text document's
// encoding (empty when it holds nothing). It names nodes by their IDs, so
// it is the same on every replica.
func encodeRecord(e *entry) []byte {
	m := e.m.Encode()
	var t []byte
	if hasText(e.doc) {
		t = e.doc.Encode()
	}
	b := make([]byte, 0, 1+len(m)+len(t)+2*binary.MaxVarintLen64)
	b = append(b, recordVersion)
	b = appendBytes(b, m)
	return appendBytes(b, t)
}

func digestOf(rec []byte) [16]byte {
	sum := sha256.Sum256(rec)
	return [16]byte(sum[:16])
}

func appendBytes(b, p []byte) []byte {
	b = binary.AppendUvarint(b, uint64(len(p)))
	return append(b, p...)
}

// encodeStored returns the record persisted for a key (format 3): the
// map's compact form (crdt.CompactV2), with node IDs numbered by dict, then
// the text document's encoding when the key holds text. No version byte:
// the datastore prefix (/store/s) is the version.
func encodeStored(e *entry, dict crdt.Dict) []byte {
	b := e.m.AppendCompact(nil, dict)
	if hasText(e.doc) {
		b = append(b, e.doc.Encode()...)
	}
	return b
}

// decodeStored decodes encodeStored's output for replica self, or with
// crdt.CompactV1 a format-2 record (the same but for the map's layout).
func decodeStored(b []byte, v crdt.CompactVersion, self crdt.NodeID, reg *crdt.Registry, dict crdt.Dict) (*entry, error) {
	m, tb, err := crdt.DecodeORMapCompactVersion(b, v, self, reg, dict)
	if err != nil {
		return nil, err
	}
	return newDecodedEntry(m, tb, self)
}

// decodeRecord decodes encodeRecord's output for replica self.
func decodeRecord(b []byte, self crdt.NodeID, reg *crdt.Registry) (*entry, error) {
	r := reader{b: b}
	if v := r.byte(); r.err == nil && v != recordVersion {
		return nil, fmt.Errorf("unknown record version %d", v)
	}
	mb, tb := r.bytes(), r.bytes()
	if err := r.done(); err != nil {
		return nil, err
	}
	m, err := crdt.DecodeORMap(mb, self, reg)
	if err != nil {
		return nil, err
	}
	return newDecodedEntry(m, tb, self)
}

// newDecodedEntry checks a decoded map and decodes the text document.
func newDecodedEntry(m *crdt.ORMap, tb []byte, self crdt.NodeID) (*entry, error) {
	if !validFields(m) {
		return nil, fmt.Errorf("unknown field in map")
	}
	e := &entry{m: m}
	var err error
	if len(tb) > 0 {
		if e.doc, err = text.Decode(tb, string(self)); err != nil {
			return nil, err
		}
		if !hasText(e.doc) {
			return nil, fmt.Errorf("non-canonical empty text")
		}
	}
	return e, nil
}

// keyDelta is the change to one key: a map delta and an optional text delta.
type keyDelta struct {
	key  string
	m    *crdt.ORMap
	text text.Delta
	// A full state without text (MergeStates): whole is the decoded
	// state and digest that of its bytes, used as they are when the key
	// is new (fast is then set by merge).
	whole  *entry
	digest [16]byte
	fast   bool
}

// encodeDelta writes deltas sorted by key with distinct keys: version,
// count, then per key (key, map delta, text delta or empty), each length
// prefixed.
func encodeDelta(ds ...keyDelta) []byte {
	b := []byte{deltaVersion}
	b = binary.AppendUvarint(b, uint64(len(ds)))
	for _, d := range ds {
		b = appendBytes(b, []byte(d.key))
		b = appendBytes(b, d.m.Encode())
		var t []byte
		if !d.text.IsEmpty() {
			t = text.EncodeDelta(d.text)
		}
		b = appendBytes(b, t)
	}
	return b
}

// decodeDelta reads encodeDelta's output; any defect is an error.
func decodeDelta(b []byte, self crdt.NodeID, reg *crdt.Registry, maxKey int) ([]keyDelta, error) {
	r := reader{b: b}
	if v := r.byte(); r.err == nil && v != deltaVersion {
		return nil, fmt.Errorf("unknown delta version %d", v)
	}
	n := r.uvarint()
	if r.err == nil && (n == 0 || n > uint64(len(r.b)/3)) {
		return nil, fmt.Errorf("bad delta count %d", n)
	}
	var out []keyDelta
	for i := uint64(0); i < n && r.err == nil; i++ {
		key, mb, tb := string(r.bytes()), r.bytes(), r.bytes()
		if r.err != nil {
			break
		}
		if err := checkKey(key, maxKey); err != nil {
			return nil, err
		}
		if len(out) > 0 && out[len(out)-1].key >= key {
			return nil, fmt.Errorf("delta keys not strictly increasing")
		}
		m, err := crdt.DecodeORMap(mb, self, reg)
		if err != nil {
			return nil, fmt.Errorf("key %q: %w", key, err)
		}
		if !validFields(m) {
			return nil, fmt.Errorf("key %q: unknown field in map delta", key)
		}
		d := keyDelta{key: key, m: m}
		if len(tb) > 0 {
			if d.text, err = text.DecodeDelta(tb); err != nil {
				return nil, fmt.Errorf("key %q: %w", key, err)
			}
			if d.text.IsEmpty() {
				return nil, fmt.Errorf("key %q: non-canonical empty text delta", key)
			}
		}
		out = append(out, d)
	}
	if err := r.done(); err != nil {
		return nil, err
	}
	return out, nil
}

// checkKey validates a key: non-empty, UTF-8, at most max bytes.
func checkKey(key string, max int) error {
	switch {
	case key == "":
		return fmt.Errorf("%w: empty key", ErrInvalid)
	case len(key) > max:
		return fmt.Errorf("%w: key of %d bytes, limit %d (Options.MaxKeyBytes)", ErrTooLarge, len(key), max)
	case !utf8.ValidString(key):
		return fmt.Errorf("%w: key %q is not UTF-8", ErrInvalid, key)
	}
	return nil
}

// reader reads the framing of records and deltas; errors stick.
type reader struct {
	b   []byte
	err error
}

func (r *reader) fail(format string, args ...any) {
	if r.err == nil {
		r.err = fmt.Errorf(format, args...)
	}
}

func (r *reader) byte() byte {
	if r.err != nil {
		return 0
	}
	if len(r.b) == 0 {
		r.fail("short input")
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

func (r *reader) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b)
	if n <= 0 || (n > 1 && r.b[n-1] == 0) {
		r.fail("bad or overlong uvarint")
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) bytes() []byte {
	n := r.uvarint()
	if r.err != nil {
		return nil
	}
	if n > uint64(len(r.b)) {
		r.fail("length %d beyond input", n)
		return nil
	}
	p := r.b[:n:n]
	r.b = r.b[n:]
	return p
}

func (r *reader) done() error {
	if r.err == nil && len(r.b) > 0 {
		r.fail("%d trailing bytes", len(r.b))
	}
	return r.err
}
