package wasmbench

import (
	"context"
	"testing"
)

func BenchmarkProbeAlloc(b *testing.B) {
	inst, _ := start(b, codecs[0])
	st := make([]uint64, 2)
	ctx := context.Background()
	for _, size := range []uint64{16, 1024} {
		b.Run("", func(b *testing.B) {
			for b.Loop() {
				st[0] = size
				inst.ProbeAlloc(ctx, st)
			}
		})
	}
}
