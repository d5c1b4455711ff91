package wiegand

import (
	"errors"
	"math/rand/v2"
	"os"
	"testing"
	"time"
)

var t0 = time.Date(2026, 11, 25, 8, 0, 0, 0, time.UTC)

// play feeds a frame's bits as pulses from start with the given spacing and
// returns when the last bit fell.
func play(f *Framer, b Bits, start time.Time, interval time.Duration) time.Time {
	at := start
	for i, bit := range b {
		if i > 0 {
			at = at.Add(interval)
		}
		f.Fall(bit, at, false)
		f.Rise(bit, at.Add(50*time.Microsecond))
	}
	return at
}

func TestFramerCases(t *testing.T) {
	card, _ := Encode(FormatH10301, 12, 345)
	tests := []struct {
		name  string
		feed  func(f *Framer) time.Time
		want  []error // one per expected result
		nbits []int
	}{
		{"one clean frame", func(f *Framer) time.Time { return play(f, card, t0, 2*time.Millisecond) }, []error{nil}, []int{26}},
		{"slow reader, 20 ms between bits", func(f *Framer) time.Time { return play(f, card, t0, 20*time.Millisecond) }, []error{nil}, []int{26}},
		{"two frames far apart", func(f *Framer) time.Time {
			play(f, card, t0, 2*time.Millisecond)
			return play(f, card, t0.Add(time.Second), 2*time.Millisecond)
		}, []error{nil, nil}, []int{26, 26}},
		{"frame split by a 40 ms pause", func(f *Framer) time.Time {
			end := play(f, card[:13], t0, 2*time.Millisecond)
			return play(f, card[13:], end.Add(40*time.Millisecond), 2*time.Millisecond)
		}, []error{ErrSplit, ErrSplit}, []int{13, 13}},
		{"short pulse", func(f *Framer) time.Time {
			end := play(f, card[:10], t0, 2*time.Millisecond)
			f.Fall(1, end.Add(time.Millisecond), false)
			f.Rise(1, end.Add(time.Millisecond+3*time.Microsecond))
			return play(f, card[10:], end.Add(2*time.Millisecond), 2*time.Millisecond)
		}, []error{ErrGlitch}, []int{27}},
		{"both lines low", func(f *Framer) time.Time {
			end := play(f, card[:10], t0, 2*time.Millisecond)
			f.Fall(0, end.Add(time.Millisecond), true)
			return end.Add(time.Millisecond)
		}, []error{ErrGlitch}, []int{11}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &Framer{}
			last := tt.feed(f)
			var got []Result
			// Poll as the receiver does: at each deadline.
			for next := f.Next(); !next.IsZero(); next = f.Next() {
				got = append(got, f.Poll(next)...)
			}
			got = append(got, f.Poll(last.Add(time.Hour))...)
			if len(got) != len(tt.want) {
				t.Fatalf("%d results, want %d: %+v", len(got), len(tt.want), got)
			}
			for i, r := range got {
				if !errors.Is(r.Err, tt.want[i]) || len(r.Bits) != tt.nbits[i] {
					t.Errorf("result %d: %d bits, err %v; want %d bits, %v", i, len(r.Bits), r.Err, tt.nbits[i], tt.want[i])
				}
			}
		})
	}
}

// TestRobustness plays 1,000,000 frames of every format with ±30% timing
// jitter, noise pulses and frames broken by long pauses. Nothing may decode
// to a number other than the one sent; rejects are counted and reported.
func TestRobustness(t *testing.T) {
	all := []Format{}
	for _, n := range DefaultFormats {
		all = append(all, Builtin[n])
	}
	// make test decodes a fixed-seed slice; the whole corpus (1.3 million
	// frames, minutes under -race) runs in make bench, or with
	// SEKISHO_BIG_CORPUS=1.
	every, quick := 60_000, 20_000
	if os.Getenv("SEKISHO_BIG_CORPUS") != "" {
		every, quick = 1_000_000, 300_000
	}
	t.Run("every format", func(t *testing.T) { robustness(t, all, every) })
	// A site that reads only 26-bit cards believes a whole one as soon as
	// its own bit rhythm says it is over: the same corpus, no wrong number.
	t.Run("26-bit site, quick frames", func(t *testing.T) { robustness(t, []Format{Builtin[FormatH10301]}, quick) })
}

func robustness(t *testing.T, formats []Format, frames int) {
	rng := rand.New(rand.NewPCG(2026, 11))
	dec := &Decoder{Formats: formats}
	jitter := func(d time.Duration) time.Duration {
		return time.Duration(float64(d) * (0.7 + 0.6*rng.Float64()))
	}
	type sent struct {
		format   string
		fc, cn   uint64
		from, to time.Time
	}
	var log []sent
	f := &Framer{Longest: dec.Longest()}
	var results []Result
	collect := func(now time.Time) { results = append(results, f.Poll(now)...) }

	at := t0
	var noisy, split int
	for i := 0; i < frames; i++ {
		ft := formats[rng.IntN(len(formats))]
		fc, cn := rng.Uint64N(ft.Facility.max()+1), rng.Uint64N(ft.Number.max()+1)
		b, err := ft.Encode(fc, cn)
		if err != nil {
			t.Fatal(err)
		}
		s := sent{format: ft.Name, fc: fc, cn: cn, from: at}
		kind := rng.IntN(10)
		splitAt := -1
		if kind == 0 { // a pause longer than the gap inside the frame
			splitAt = 1 + rng.IntN(len(b)-1)
			split++
		}
		for j, bit := range b {
			if j == splitAt {
				at = at.Add(DefaultGap + time.Duration(rng.Int64N(int64(DefaultIsolation-DefaultGap-time.Millisecond))))
			} else if j > 0 {
				at = at.Add(jitter(2 * time.Millisecond))
			}
			f.Fall(bit, at, false)
			width := jitter(50 * time.Microsecond)
			f.Rise(bit, at.Add(width))
			if kind == 1 && j == len(b)/2 { // a noise spike between two bits
				noisy++
				spike := at.Add(width + jitter(500*time.Microsecond))
				line := uint8(rng.IntN(2))
				f.Fall(line, spike, false)
				f.Rise(line, spike.Add(time.Duration(rng.IntN(9))*time.Microsecond))
			}
			if kind == 2 && j == len(b)/3 { // crosstalk: both lines low together
				noisy++
				f.Fall(1-bit, at.Add(width/2), true)
			}
			collect(at)
		}
		s.to = at
		log = append(log, s)
		at = at.Add(150*time.Millisecond + jitter(100*time.Millisecond))
		collect(at)
	}
	collect(at.Add(time.Hour))

	// Attribute each result to the frame whose time span holds its last bit.
	var good, rejected, wrong int
	k := 0
	for _, r := range results {
		for k < len(log)-1 && r.At.After(log[k].to) {
			k++
		}
		if r.Err != nil {
			rejected++
			continue
		}
		c, err := dec.Decode(r.Bits)
		if err != nil || c.Format == FormatRaw {
			rejected++
			continue
		}
		s := log[k]
		if c.Format != s.format || c.Facility != s.fc || c.Number != s.cn {
			wrong++
			t.Errorf("frame %d sent %s %d:%d, decoded %s %d:%d", k, s.format, s.fc, s.cn, c.Format, c.Facility, c.Number)
			continue
		}
		good++
	}
	t.Logf("%d frames (%d split by pauses, %d with noise): %d decoded right, %d rejected, %d wrong",
		frames, split, noisy, good, rejected, wrong)
	if wrong != 0 {
		t.Fatalf("%d frames decoded to a wrong number", wrong)
	}
	if clean := frames - split - noisy; good < clean*99/100 {
		t.Fatalf("only %d of %d clean frames decoded", good, clean)
	}
}
