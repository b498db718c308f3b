package ingest

// HoldDecodeSlots takes every decode slot, as requests decoding at once
// would, until the returned func gives them back.
func (sv *Service) HoldDecodeSlots() (release func()) {
	n := cap(sv.decoding)
	for i := 0; i < n; i++ {
		sv.decoding <- struct{}{}
	}
	return func() {
		for i := 0; i < n; i++ {
			<-sv.decoding
		}
	}
}

// DecodeSlots is decodeSlots.
var DecodeSlots = decodeSlots
