package camera

import (
	"bytes"
	"hash/fnv"
	"image"
	"image/color"
	"image/jpeg"
	"path/filepath"
	"time"
)

// StillsDir is where a site keeps its stills, under its data dir.
func StillsDir(dataDir string) string { return filepath.Join(dataDir, "stills") }

// SimStill draws the demo's simulated camera: a frame in the camera's own
// colour with the time as bars (hours, minutes, seconds), so each still of
// a demo run differs and can be told apart at a glance.
func SimStill(camera string, at time.Time) ([]byte, error) {
	const w, h = 320, 240
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	f := fnv.New32a()
	f.Write([]byte(camera))
	sum := f.Sum32()
	base := color.RGBA{uint8(sum), uint8(sum >> 8), uint8(sum >> 16), 255}
	for y := 0; y < h; y++ {
		shade := uint8(y * 96 / h)
		px := [4]uint8{base.R/2 + shade, base.G/2 + shade, base.B/2 + shade, 255}
		row := img.Pix[y*img.Stride : y*img.Stride+w*4]
		for x := 0; x < w; x++ {
			copy(row[x*4:], px[:])
		}
	}
	bars := []struct {
		v, max int
	}{{at.Hour(), 24}, {at.Minute(), 60}, {at.Second(), 60}, {at.Nanosecond() / 1e6, 1000}}
	for i, b := range bars {
		y0 := 150 + i*20
		for y := y0; y < y0+12; y++ {
			row := img.Pix[y*img.Stride:]
			for x := 20; x < 20+b.v*280/b.max; x++ {
				copy(row[x*4:], []uint8{255, 255, 255, 255})
			}
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 70}); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
