//go:build ignore

// gen writes the echo contacts' avatars: small PNGs, one colour each (a disc with a lighter
// ring, on a transparent background). Run it from plugins/echo with `go generate`; its output
// is committed, so the plugin needs nothing at build time.
package main

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"log"
	"os"
	"path/filepath"
)

var colours = map[string]color.NRGBA{
	"eve":   {0xe0, 0x40, 0x40, 0xff}, // red
	"dora":  {0xf0, 0xa0, 0x20, 0xff}, // orange
	"liam":  {0x40, 0x80, 0xe0, 0xff}, // blue
	"bot":   {0x50, 0xb0, 0x50, 0xff}, // green
	"plain": {0x90, 0x60, 0xc0, 0xff}, // purple
}

func main() {
	const n = 32
	for name, c := range colours {
		img := image.NewNRGBA(image.Rect(0, 0, n, n))
		light := color.NRGBA{c.R/2 + 0x7f, c.G/2 + 0x7f, c.B/2 + 0x7f, 0xff}
		for y := 0; y < n; y++ {
			for x := 0; x < n; x++ {
				dx, dy := 2*x-n+1, 2*y-n+1
				switch d := dx*dx + dy*dy; {
				case d <= (n-8)*(n-8):
					img.SetNRGBA(x, y, c)
				case d <= n*n:
					img.SetNRGBA(x, y, light)
				}
			}
		}
		var buf bytes.Buffer
		enc := png.Encoder{CompressionLevel: png.BestCompression}
		if err := enc.Encode(&buf, img); err != nil {
			log.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join("avatars", name+".png"), buf.Bytes(), 0o644); err != nil {
			log.Fatal(err)
		}
	}
}
