package sim

import (
	"bytes"
	"embed"
	"image"
	"image/color"
	"image/png"
)

//go:generate go run ./internal/gendemo

// demoFS holds the built-in demo fixture (demo/demo.toml and the images it names). It is the
// canonical copy: go generate writes the avatars and copies the folder to
// plugins/telegram/fixture, and a test checks that the two agree.
//
//go:embed demo
var demoFS embed.FS

// DemoFile is the path of the demo fixture inside DemoFS.
const DemoFile = "demo/demo.toml"

// DemoFS returns the files of the built-in demo fixture.
func DemoFS() embed.FS { return demoFS }

// DemoFixture parses the built-in demo fixture (what an empty fixture path selects).
func DemoFixture() (*Fixture, error) {
	data, err := demoFS.ReadFile(DemoFile)
	if err != nil {
		return nil, err
	}
	return ParseFixture(demoFS, DemoFile, data, "built-in demo fixture")
}

// builtinPicture is what an echo user without a fixture picture answers "photo" with: a
// small sunset.
var builtinPicture = func() []byte {
	var b bytes.Buffer
	_ = png.Encode(&b, sunset(builtinPictureW, builtinPictureH))
	return b.Bytes()
}()

const builtinPictureW, builtinPictureH = 320, 200

func sunset(w, h int) image.Image {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	sea := h * 2 / 3
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			var c color.RGBA
			if y < sea {
				k := y * 255 / sea
				c = color.RGBA{255, uint8(120 + k/3), uint8(60 + k/4), 255}
			} else {
				k := (y - sea) * 255 / (h - sea)
				c = color.RGBA{uint8(30 + k/8), uint8(60 + k/6), uint8(120 + k/3), 255}
			}
			dx, dy := x-w/2, y-sea
			if dx*dx+dy*dy < (h/5)*(h/5) && y < sea {
				c = color.RGBA{255, 220, 80, 255}
			}
			img.Set(x, y, c)
		}
	}
	return img
}
