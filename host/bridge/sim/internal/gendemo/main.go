// Command gendemo draws the images of the simulated Telegram's demo fixture and copies the
// fixture to where the Telegram plugin ships it. Run it with go generate in host/bridge/sim:
//
//	go generate ./host/bridge/sim
//
// The images are deterministic (an identicon per name), so running it twice changes nothing.
package main

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io/fs"
	"log"
	"os"
	"path/filepath"
)

// avatars: file name -> the name its pattern is drawn from.
var avatars = map[string]string{
	"eve.png":      "Eve Echo",
	"dora.png":     "dora",
	"liam.png":     "Liam Lastweek",
	"helper.png":   "Helper Bot",
	"plain.png":    "Plain Echo",
	"telegram.png": "Telegram",
	"alice.png":    "Alice",
	"bob.png":      "Bob",
}

const (
	src  = "demo"                              // in host/bridge/sim
	dest = "../../../plugins/telegram/fixture" // the shipped copy
)

func main() {
	for name, seed := range avatars {
		write(filepath.Join(src, "avatars", name), identicon(seed, 160))
	}
	// the shipped copy: demo.toml and the avatars, nothing else in that folder is touched
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		out := filepath.Join(dest, rel)
		if d.IsDir() {
			return os.MkdirAll(out, 0o755)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(out, data, 0o644)
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("gendemo: wrote", src, "and", dest)
}

func write(p string, img image.Image) {
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		log.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(p, b.Bytes(), 0o644); err != nil {
		log.Fatal(err)
	}
}

// identicon draws a symmetric 5x5 pattern in a colour, both from the hash of seed.
func identicon(seed string, size int) image.Image {
	h := sha256.Sum256([]byte(seed))
	fg := color.RGBA{h[0]/2 + 64, h[1]/2 + 64, h[2]/2 + 64, 255}
	bg := color.RGBA{240, 240, 240, 255}
	img := image.NewRGBA(image.Rect(0, 0, size, size))
	cell := size / 6
	margin := (size - 5*cell) / 2
	for y := 0; y < size; y++ {
		for x := 0; x < size; x++ {
			img.Set(x, y, bg)
		}
	}
	for row := 0; row < 5; row++ {
		for col := 0; col < 3; col++ {
			if h[3+row*3+col]&1 == 0 {
				continue
			}
			for _, c := range []int{col, 4 - col} {
				for y := 0; y < cell; y++ {
					for x := 0; x < cell; x++ {
						img.Set(margin+c*cell+x, margin+row*cell+y, fg)
					}
				}
			}
		}
	}
	return img
}
