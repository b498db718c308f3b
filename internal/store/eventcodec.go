package store

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/rapportcrm/rapport/internal/customer"
	"github.com/rapportcrm/rapport/internal/identity"
)

// eventCodecVersion leads every encoded batch, so a queue written by an
// older binary is recognised (and refused, not misread) after an upgrade.
const eventCodecVersion = 1

// encodeEvents packs validated events for the ingest queue: a compact
// binary form, because the applier decodes every queued event and JSON
// would cost it several microseconds an event. Orders and refunds (a few
// percent of events) are carried as JSON, so a field added to them later
// travels without a codec change.
func encodeEvents(evs []Event) ([]byte, error) {
	size := 16
	for i := range evs {
		size += len(evs[i].Payload) + 256
	}
	b := make([]byte, 0, size)
	b = append(b, eventCodecVersion)
	b = binary.AppendUvarint(b, uint64(len(evs)))
	for i := range evs {
		e := &evs[i]
		for _, s := range [...]string{e.SourceID, e.Source, e.MessageID, e.Type, e.Name, e.ProfileName} {
			b = appendString(b, s)
		}
		b = appendTime(b, e.At)
		b = appendTime(b, e.ReceivedAt)
		b = appendBytes(b, e.Payload)
		b = binary.AppendUvarint(b, uint64(len(e.Claims)))
		for _, c := range e.Claims {
			b = appendString(b, c.Identity.Type)
			b = appendString(b, c.Identity.Source)
			b = appendString(b, c.Identity.Value)
			b = appendString(b, c.Owner)
			var flags byte
			if c.Explicit {
				flags |= 1
			}
			if c.IfKnown {
				flags |= 2
			}
			b = append(b, flags)
		}
		var order, refund []byte
		var err error
		if e.Order != nil {
			if order, err = json.Marshal(e.Order); err != nil {
				return nil, fmt.Errorf("encode order: %w", err)
			}
		}
		if e.Refund != nil {
			if refund, err = json.Marshal(e.Refund); err != nil {
				return nil, fmt.Errorf("encode refund: %w", err)
			}
		}
		b = appendBytes(b, order)
		b = appendBytes(b, refund)
	}
	return b, nil
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func appendBytes(b, p []byte) []byte {
	b = binary.AppendUvarint(b, uint64(len(p)))
	return append(b, p...)
}

// appendTime writes seconds and nanoseconds; the zero time is one zero
// byte (it has no Unix nanosecond form).
func appendTime(b []byte, t time.Time) []byte {
	if t.IsZero() {
		return append(b, 0)
	}
	b = append(b, 1)
	b = binary.AppendVarint(b, t.Unix())
	return binary.AppendUvarint(b, uint64(t.Nanosecond()))
}

var errCorruptBatch = errors.New("store: queued batch is corrupt")

// eventReader walks an encoded batch; the first error sticks.
type eventReader struct {
	b   []byte
	err error
}

func (r *eventReader) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.err = errCorruptBatch
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *eventReader) bytes() []byte {
	n := r.uvarint()
	if r.err != nil {
		return nil
	}
	if n > uint64(len(r.b)) {
		r.err = errCorruptBatch
		return nil
	}
	p := r.b[:n:n]
	r.b = r.b[n:]
	return p
}

func (r *eventReader) string() string { return string(r.bytes()) }

func (r *eventReader) byte() byte {
	if r.err != nil {
		return 0
	}
	if len(r.b) == 0 {
		r.err = errCorruptBatch
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

func (r *eventReader) time() time.Time {
	if r.byte() == 0 || r.err != nil {
		return time.Time{}
	}
	sec, n := binary.Varint(r.b)
	if n <= 0 {
		r.err = errCorruptBatch
		return time.Time{}
	}
	r.b = r.b[n:]
	nsec := r.uvarint()
	if nsec >= 1e9 {
		r.err = errCorruptBatch
		return time.Time{}
	}
	return time.Unix(sec, int64(nsec)).UTC()
}

// decodeEvents is the inverse of encodeEvents.
func decodeEvents(b []byte) ([]Event, error) {
	if len(b) == 0 || b[0] != eventCodecVersion {
		return nil, fmt.Errorf("%w: unknown format", errCorruptBatch)
	}
	r := &eventReader{b: b[1:]}
	n := r.uvarint()
	if r.err != nil || n > uint64(len(r.b)) { // every event takes at least one byte
		return nil, errCorruptBatch
	}
	evs := make([]Event, n)
	for i := range evs {
		e := &evs[i]
		e.SourceID, e.Source, e.MessageID = r.string(), r.string(), r.string()
		e.Type, e.Name, e.ProfileName = r.string(), r.string(), r.string()
		e.At, e.ReceivedAt = r.time(), r.time()
		e.Payload = r.bytes()
		nc := r.uvarint()
		if nc > uint64(len(r.b)) {
			return nil, errCorruptBatch
		}
		if nc > 0 {
			e.Claims = make([]identity.Claim, nc)
		}
		for j := range e.Claims {
			c := &e.Claims[j]
			c.Identity.Type, c.Identity.Source, c.Identity.Value = r.string(), r.string(), r.string()
			c.Owner = r.string()
			flags := r.byte()
			c.Explicit, c.IfKnown = flags&1 != 0, flags&2 != 0
		}
		if order := r.bytes(); len(order) > 0 {
			e.Order = &customer.Order{}
			if err := json.Unmarshal(order, e.Order); err != nil {
				return nil, fmt.Errorf("%w: order: %v", errCorruptBatch, err)
			}
		}
		if refund := r.bytes(); len(refund) > 0 {
			e.Refund = &Refund{}
			if err := json.Unmarshal(refund, e.Refund); err != nil {
				return nil, fmt.Errorf("%w: refund: %v", errCorruptBatch, err)
			}
		}
		if r.err != nil {
			return nil, r.err
		}
	}
	if len(r.b) != 0 {
		return nil, fmt.Errorf("%w: %d trailing bytes", errCorruptBatch, len(r.b))
	}
	return evs, nil
}
