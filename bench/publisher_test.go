package bench

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

// A publish that blocks does not hold up the ones scheduled after it: the
// first publish returns only once the two after it have started, which a
// publisher that waited for each publish would never let happen (the
// context's deadline then fails the test).
func TestPublisherDoesNotWaitForABusySender(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	p := newPublisher(ctx)
	var mu sync.Mutex
	started := 0
	others := make(chan struct{})
	blocked := func(ctx context.Context, _ []byte) error {
		select {
		case <-others:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	quick := func(context.Context, []byte) error {
		mu.Lock()
		defer mu.Unlock()
		if started++; started == 2 {
			close(others)
		}
		return nil
	}
	now := time.Now()
	if err := p.at(now, blocked, nil); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 2; i++ {
		if err := p.at(now.Add(time.Duration(i)*time.Millisecond), quick, nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.wait(); err != nil {
		t.Fatalf("the blocked publish never saw the later ones start: %v", err)
	}
}

// The first publish error comes back from wait, and from the next at.
func TestPublisherReportsTheFirstError(t *testing.T) {
	p := newPublisher(context.Background())
	boom := errors.New("boom")
	if err := p.at(time.Now(), func(context.Context, []byte) error { return boom }, nil); err != nil {
		t.Fatal(err)
	}
	if err := p.wait(); !errors.Is(err, boom) {
		t.Fatalf("wait = %v, want %v", err, boom)
	}
	if err := p.at(time.Now(), func(context.Context, []byte) error { return nil }, nil); !errors.Is(err, boom) {
		t.Fatalf("at after a failed publish = %v, want %v", err, boom)
	}
}
