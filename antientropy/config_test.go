package antientropy

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

func TestConfigValidateNamesField(t *testing.T) {
	for field, mut := range map[string]func(*Config){
		"SyncInterval":    func(c *Config) { c.SyncInterval = 0 },
		"MerkleFanout":    func(c *Config) { c.MerkleFanout = 12 },
		"MerkleDepth":     func(c *Config) { c.MerkleDepth = 7 },
		"MaxMessageBytes": func(c *Config) { c.MaxMessageBytes = 2 << 20 },
		"MaxStateBytes":   func(c *Config) { c.MaxStateBytes = 1 << 20 },
	} {
		c := DefaultConfig()
		mut(&c)
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), field) {
			t.Errorf("%s: got %v", field, err)
		}
	}
	for _, c := range []Config{DefaultConfig(), SimConfig(), testConfig()} {
		if err := c.Validate(); err != nil {
			t.Error(err)
		}
	}
}

// TestRestoreAfterRestart: a node rebuilt over its store with its saved
// clock is in sync with its peer at once, without pulling anything.
func TestRestoreAfterRestart(t *testing.T) {
	nw := newNet(t, 2, testConfig(), 5)
	for i := 0; i < 50; i++ {
		nw.write(i%2, fmt.Sprintf("k%d", i), "v")
	}
	nw.sync(0, 1)
	saved := nw.nodes[0].core.Clock().Encode()
	k, err := DecodeClock(saved)
	if err != nil {
		t.Fatal(err)
	}
	c, err := New(testConfig(), "n0", nw.nodes[0].store, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		t.Fatal(err)
	}
	c.SetMembers(0, []NodeID{"n0", "n1"})
	c.Restore(0, k)
	nw.nodes[0].core = c
	nw.sync(0, 1)
	if st := c.Stats(); st.InSync != 1 || st.ObjectsPulled != 0 {
		t.Fatalf("restored node not in sync: %+v", st)
	}
	if c.Root() != nw.nodes[1].core.Root() {
		t.Fatal("restored tree differs")
	}
}
