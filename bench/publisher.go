package bench

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// publisher publishes messages on a schedule without waiting for each
// (an open-loop load generator): a sender whose loop is busy holds up its
// own message, not the ones scheduled after it. At most maxPublishing
// publishes are in flight; past that, at blocks and the schedule slips.
type publisher struct {
	ctx   context.Context
	slots chan struct{}
	wg    sync.WaitGroup
	mu    sync.Mutex
	err   error
}

func newPublisher(ctx context.Context) *publisher {
	return &publisher{ctx: ctx, slots: make(chan struct{}, maxPublishing)}
}

// at waits until when (and for a free slot), then calls publish(payload)
// (an agent's Publish) in a goroutine of its own. It returns the first
// error of an earlier publish, or the context's.
func (p *publisher) at(when time.Time, publish func(context.Context, []byte) error, payload []byte) error {
	if d := time.Until(when); d > 0 {
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-p.ctx.Done():
			t.Stop()
			return p.ctx.Err()
		}
	}
	select {
	case p.slots <- struct{}{}:
	case <-p.ctx.Done():
		return p.ctx.Err()
	}
	if err := p.firstErr(); err != nil {
		return err
	}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		defer func() { <-p.slots }()
		if err := publish(p.ctx, payload); err != nil {
			p.mu.Lock()
			if p.err == nil {
				p.err = fmt.Errorf("publish: %w", err)
			}
			p.mu.Unlock()
		}
	}()
	return nil
}

// wait waits for every publish in flight and returns the first error.
func (p *publisher) wait() error {
	p.wg.Wait()
	return p.firstErr()
}

func (p *publisher) firstErr() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.err
}
