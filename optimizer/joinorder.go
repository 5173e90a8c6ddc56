package optimizer

import (
	"math"
	"math/bits"

	"github.com/etlc/etlc/planner"
)

// This file chooses the order of the inner joins of a region (joins.go
// collects the region's relations and conditions).
//
// The join graph has a node per relation and an edge per condition over
// two or more relations. The size of joining any set S of relations is
// the product of their estimated rows times the selectivity of every
// condition inside S (cardinality.go; several equalities between the same
// two relations are backed off, as they are rarely independent), so it
// does not depend on the order.
//
//   - Up to dpLimit relations, dynamic programming over the subsets finds
//     the cheapest tree (bushy trees included): a set is joined from two
//     disjoint subsets that are each connected and joined to each other by
//     a condition, so no cross product is ever considered while the graph
//     is connected. The cost of a tree is the cost of its hash joins
//     (cost.go: build rows, probe rows, output rows, build memory).
//   - Beyond that, or when the graph falls apart into pieces no condition
//     connects, a greedy pass repeatedly joins the connected pair of trees
//     whose join is smallest, and only when no condition connects any two
//     trees makes a cross product of the two smallest.
//
// Each join takes the smaller input as its build (right) side, unless the
// other one reads a stream: a stream is always the probe side.

// dpLimit is the largest number of relations ordered by dynamic
// programming.
const dpLimit = 12

// edge is a condition over two or more relations of a region.
type edge struct {
	e    planner.Expr
	set  uint64 // the relations it reads
	equi bool
}

// jtree is a join tree over a set of a region's relations.
type jtree struct {
	set         uint64
	leaf        int // the relation, when left is nil
	left, right *jtree
	rows        float64
	width       float64
	cost        float64
	stream      bool
}

// graph is the join graph of a region.
type graph struct {
	o      *opt
	leaves []*card
	stream []bool
	edges  []edge
	// groups combines the selectivity of edges over the same relations.
	groups []edgeGroup
}

// edgeGroup is the edges over one set of relations, with their combined
// selectivity.
type edgeGroup struct {
	set uint64
	sel float64
}

// newGraph builds the graph of a region's relations and join conditions.
func (o *opt) newGraph(r *region, leaves []planner.Node, edges []edge) *graph {
	g := &graph{o: o, edges: edges}
	all := &card{}
	for _, l := range leaves {
		c := o.card(l)
		g.leaves = append(g.leaves, c)
		g.stream = append(g.stream, hasStream(l))
		all.cols = append(all.cols, keyCols(c)...)
	}
	all.rows = 1
	type acc struct {
		keys []float64
		rest float64
	}
	bySet := map[uint64]*acc{}
	var order []uint64
	for _, e := range edges {
		a := bySet[e.set]
		if a == nil {
			a = &acc{rest: 1}
			bySet[e.set] = a
			order = append(order, e.set)
		}
		if call, ok := e.e.(*planner.Call); ok && e.equi && len(call.Args) == 2 {
			x, xok := plainCol(call.Args[0])
			y, yok := plainCol(call.Args[1])
			if xok && yok && x < len(all.cols) && y < len(all.cols) {
				a.keys = append(a.keys, eqColsSel(all.cols[x], all.cols[y]))
				continue
			}
		}
		a.rest *= o.selectivity(e.e, all)
	}
	for _, s := range order {
		a := bySet[s]
		ks := backoff(a.keys)
		if len(a.keys) > 1 && bits.OnesCount64(s) == 2 {
			// As in joinSelectivity: at most a key of the smaller side.
			small := math.Inf(1)
			for x := s; x != 0; x &= x - 1 {
				small = math.Min(small, g.leaves[bits.TrailingZeros64(x)].rows)
			}
			ks = math.Max(ks, 1/math.Max(1, small))
		}
		g.groups = append(g.groups, edgeGroup{set: s, sel: ks * a.rest})
	}
	return g
}

// rowsOf estimates the rows of joining the relations of set.
func (g *graph) rowsOf(set uint64) float64 {
	r := 1.0
	for s := set; s != 0; s &= s - 1 {
		r *= g.leaves[bits.TrailingZeros64(s)].rows
	}
	for _, e := range g.groups {
		if e.set&set == e.set {
			r *= e.sel
		}
	}
	return math.Max(r, 1)
}

// connected reports whether a condition joins a and b (inside a|b).
func (g *graph) connected(a, b uint64) bool {
	u := a | b
	for _, e := range g.edges {
		if e.set&u == e.set && e.set&a != 0 && e.set&b != 0 {
			return true
		}
	}
	return false
}

// leafTree is the tree of one relation.
func (g *graph) leafTree(i int) *jtree {
	c := g.leaves[i]
	return &jtree{set: 1 << uint(i), leaf: i, rows: c.rows, width: rowWidth(c), stream: g.stream[i]}
}

// join builds the tree joining a and b, the smaller one (or the one
// without a stream) as the build side.
func (g *graph) join(a, b *jtree) *jtree {
	probe, build := a, b
	if b.stream && !a.stream || !a.stream && !b.stream && b.rows > a.rows {
		probe, build = b, a
	}
	set := a.set | b.set
	rows := g.rowsOf(set)
	var c Cost
	if g.connected(a.set, b.set) {
		c = hashJoinCost(&card{rows: build.rows, cols: []colEst{{width: build.width}}},
			&card{rows: probe.rows}, rows)
	} else {
		c = Cost{Rows: a.rows*b.rows + rows, Mem: build.rows * build.width}
	}
	return &jtree{set: set, left: probe, right: build, rows: rows, width: a.width + b.width,
		cost: a.cost + b.cost + c.Total(), stream: a.stream || b.stream}
}

// order returns the join tree of the region's relations.
func (g *graph) order() *jtree {
	n := len(g.leaves)
	if n <= dpLimit {
		if t := g.dp(); t != nil {
			return t
		}
	}
	return g.greedy()
}

// dp finds the cheapest tree over connected subsets; nil when the graph
// is not connected.
func (g *graph) dp() *jtree {
	n := len(g.leaves)
	full := uint64(1)<<uint(n) - 1
	best := make([]*jtree, full+1)
	for i := 0; i < n; i++ {
		best[1<<uint(i)] = g.leafTree(i)
	}
	// Subsets in increasing order: every proper subset of s comes first.
	for s := uint64(1); s <= full; s++ {
		if s&(s-1) == 0 {
			continue
		}
		// Each split once: s1 holds the lowest relation of s.
		low := s & -s
		for s1 := (s - 1) & s; s1 != 0; s1 = (s1 - 1) & s {
			if s1&low == 0 {
				continue
			}
			s2 := s ^ s1
			a, b := best[s1], best[s2]
			if a == nil || b == nil || !g.connected(s1, s2) {
				continue
			}
			t := g.join(a, b)
			if best[s] == nil || t.cost < best[s].cost {
				best[s] = t
			}
		}
	}
	return best[full]
}

// greedy joins the connected pair of trees with the smallest result until
// one tree is left; a cross product only when no pair is connected.
func (g *graph) greedy() *jtree {
	trees := make([]*jtree, len(g.leaves))
	for i := range trees {
		trees[i] = g.leafTree(i)
	}
	for len(trees) > 1 {
		bi, bj := -1, -1
		var bt *jtree
		for i := 0; i < len(trees); i++ {
			for j := i + 1; j < len(trees); j++ {
				if !g.connected(trees[i].set, trees[j].set) {
					continue
				}
				t := g.join(trees[i], trees[j])
				if bt == nil || t.rows < bt.rows || t.rows == bt.rows && t.cost < bt.cost {
					bi, bj, bt = i, j, t
				}
			}
		}
		if bt == nil {
			// Nothing connects: the two smallest trees, in FROM order.
			bi = 0
			for i := range trees {
				if trees[i].rows < trees[bi].rows {
					bi = i
				}
			}
			bj = -1
			for i := range trees {
				if i != bi && (bj < 0 || trees[i].rows < trees[bj].rows) {
					bj = i
				}
			}
			if bi > bj {
				bi, bj = bj, bi
			}
			bt = g.join(trees[bi], trees[bj])
		}
		trees[bi] = bt
		trees = append(trees[:bj], trees[bj+1:]...)
	}
	return trees[0]
}
