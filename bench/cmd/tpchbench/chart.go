package main

import (
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"io"
	"math"

	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"
)

// Chart colours.
var (
	colDuck = color.RGBA{0xe3, 0x9b, 0x1b, 0xff} // etlc/DuckDB bars
	colPG   = color.RGBA{0x33, 0x67, 0x91, 0xff} // etlc/PostgreSQL bars
	colAxis = color.RGBA{0x40, 0x40, 0x40, 0xff}
	colGrid = color.RGBA{0xdd, 0xdd, 0xdd, 0xff}
	colOne  = color.RGBA{0xc0, 0x20, 0x20, 0xff} // the ratio 1 (as fast)
)

// chart draws the ratios etlc/DuckDB and etlc/PostgreSQL per query (and
// their geometric means) as bars on a log2 scale, with a red line at 1:
// a bar above the line is a query etlc runs slower.
func (r *results) chart(w io.Writer) error {
	rows := r.rows()
	const (
		left, right, top, bottom = 60, 20, 40, 50
		groupW, barW             = 44, 16
	)
	width := left + right + groupW*len(rows)
	height := 420
	img := image.NewRGBA(image.Rect(0, 0, width, height))
	draw.Draw(img, img.Bounds(), image.White, image.Point{}, draw.Src)
	// The scale: log2 of the ratio from lo to hi, whole powers of two.
	lo, hi := -2.0, 2.0
	for _, x := range rows {
		for _, v := range []struct {
			r  float64
			ok bool
		}{{x.rDuck, x.okDuck}, {x.rPG, x.okPG}} {
			if v.ok && v.r > 0 {
				l := math.Log2(v.r)
				lo, hi = math.Min(lo, math.Floor(l)), math.Max(hi, math.Ceil(l))
			}
		}
	}
	plotH := float64(height - top - bottom)
	y := func(l float64) int { return top + int((hi-l)/(hi-lo)*plotH) }
	for p := lo; p <= hi; p++ {
		yy := y(p)
		c := colGrid
		if p == 0 {
			c = colOne
		}
		hline(img, left, width-right, yy, c)
		label(img, 4, yy+4, ratioLabel(p), colAxis)
	}
	vline(img, left, top, height-bottom, colAxis)
	for i, x := range rows {
		x0 := left + i*groupW + (groupW-2*barW)/2
		// Geometric means are recomputed from the cells of the last row.
		for k, v := range []struct {
			r  float64
			ok bool
			c  color.Color
		}{{x.rDuck, x.okDuck, colDuck}, {x.rPG, x.okPG, colPG}} {
			if i == len(rows)-1 {
				v.r, v.ok = parseRatio(x.vsDuck)
				if k == 1 {
					v.r, v.ok = parseRatio(x.vsPG)
				}
			}
			if !v.ok || v.r <= 0 {
				continue
			}
			y0, y1 := y(0), y(math.Log2(v.r))
			if y1 > y0 {
				y0, y1 = y1, y0
			}
			fill(img, image.Rect(x0+k*barW, y1, x0+(k+1)*barW-2, y0+1), v.c)
		}
		name := x.query
		if name == "geomean" {
			name = "gmean"
		}
		label(img, left+i*groupW+(groupW-7*len(name))/2, height-bottom+16, name, colAxis)
	}
	title := fmt.Sprintf("TPC-H SF%d, %d threads: etlc time / other engine's time (log scale; below the red line etlc is faster)", r.sf, r.threads)
	label(img, left, 20, title, colAxis)
	fill(img, image.Rect(left, height-22, left+12, height-10), colDuck)
	label(img, left+18, height-11, "etlc/DuckDB", colAxis)
	fill(img, image.Rect(left+130, height-22, left+142, height-10), colPG)
	label(img, left+148, height-11, "etlc/PostgreSQL", colAxis)
	return png.Encode(w, img)
}

func parseRatio(s string) (float64, bool) {
	var v float64
	if _, err := fmt.Sscanf(s, "%g", &v); err != nil {
		return 0, false
	}
	return v, true
}

// ratioLabel renders 2^p as "4x" or "1/4x".
func ratioLabel(p float64) string {
	if p >= 0 {
		return fmt.Sprintf("%gx", math.Exp2(p))
	}
	return fmt.Sprintf("1/%gx", math.Exp2(-p))
}

func fill(img *image.RGBA, r image.Rectangle, c color.Color) {
	draw.Draw(img, r, image.NewUniform(c), image.Point{}, draw.Src)
}

func hline(img *image.RGBA, x0, x1, y int, c color.Color) {
	fill(img, image.Rect(x0, y, x1, y+1), c)
}

func vline(img *image.RGBA, x, y0, y1 int, c color.Color) {
	fill(img, image.Rect(x, y0, x+1, y1), c)
}

// label draws text with its baseline at y.
func label(img *image.RGBA, x, y int, s string, c color.Color) {
	d := &font.Drawer{Dst: img, Src: image.NewUniform(c), Face: basicfont.Face7x13, Dot: fixed.P(x, y)}
	d.DrawString(s)
}
