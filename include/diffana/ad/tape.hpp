// SPDX-License-Identifier: BSD-3-Clause
/// \file
/// `diffana::Tape`, the record that reverse mode (reverse.hpp) sweeps backwards:
/// nodes with their edges (parent, partial derivative), parameter leaves, and custom
/// nodes (an op with many inputs and outputs recorded once, with its own pullback).
/// One tape per thread (`active_tape()`), cleared per event (or rewound to a mark,
/// keeping what was recorded before it, e.g. the parameters); its storage keeps its
/// capacity, so a warm tape allocates nothing. The last nodes can be rewritten in
/// place (fold_*: Rev's arithmetic on a temporary folds into its node). Knows Rev only
/// by name (reverse_fwd.hpp). Not for device code.
///
/// Layout, for speed in cling-compiled code (whose machine code keeps few values in
/// registers): the edges are one flat list in node order, each with the node it
/// belongs to, so the sweep is a single loop over the edges backwards (no per-node
/// edge ranges, no inner loop), and a node is a counter increment. The recording
/// functions are small and forced inline; their rare failures throw from out-of-line
/// functions.
#pragma once

#include "diffana/ad/reverse_fwd.hpp"
#include "diffana/config.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <new>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

namespace diffana {

// ---- custom nodes -------------------------------------------------------------------

/// What the pullback of a custom node gets: the adjoints of its outputs, the adjoints
/// of its inputs to accumulate into (+=; zeroed before the call and added to the
/// inputs' adjoints after it, constant inputs included and then ignored), the numbers
/// it stored when it was recorded, and the context pointer given then.
struct CustomArgs {
  const double* d_out;
  std::size_t n_out;
  double* d_in;
  std::size_t n_in;
  const double* data;
  std::size_t n_data;
  void* context;
  /// For a node recorded by push_custom_range: the adjoints of its leaf range
  /// themselves (n_range of them; the pullback adds to them: nothing is zeroed,
  /// copied or scattered), else null. d_in then holds the other inputs only.
  double* d_range = nullptr;
  std::size_t n_range = 0;
};

/// A custom node's pullback.
using CustomPullback = void (*)(const CustomArgs&);

// ---- the tape -----------------------------------------------------------------------

namespace detail {
/// A growable array of a trivially copyable T with an inlined push_back (the growth
/// is out of line): the tape's storage, whose capacity survives clear().
template <class T> class TapeBuffer {
  static_assert(std::is_trivially_copyable_v<T>, "TapeBuffer holds plain data");

public:
  TapeBuffer() = default;
  TapeBuffer(const TapeBuffer&) = delete;
  TapeBuffer& operator=(const TapeBuffer&) = delete;
  ~TapeBuffer() { std::free(data_); }

  DIFFANA_INLINE void push_back(const T& v) {
    if (size_ == cap_) grow();
    data_[size_++] = v;
  }
  /// Room for k more elements; returns where they go (size grows by k).
  DIFFANA_INLINE T* extend(std::size_t k) {
    if (cap_ - size_ < k) grow(k);
    T* p = data_ + size_;
    size_ += k;
    return p;
  }
  void clear() { size_ = 0; }
  /// Keeps the first n elements (n <= size()).
  void resize_down(std::size_t n) { size_ = n; }
  std::size_t size() const { return size_; }
  std::size_t capacity() const { return cap_; }
  T* data() { return data_; }
  const T* data() const { return data_; }
  T& operator[](std::size_t i) { return data_[i]; }
  const T& operator[](std::size_t i) const { return data_[i]; }
  T& back() { return data_[size_ - 1]; }

private:
  DIFFANA_NOINLINE void grow(std::size_t k = 1) {
    std::size_t cap = cap_ < 64 ? 64 : 2 * cap_;
    while (cap - size_ < k)
      cap *= 2;
    void* p = std::realloc(static_cast<void*>(data_), cap * sizeof(T));
    if (p == nullptr) throw std::bad_alloc();
    data_ = static_cast<T*>(p);
    cap_ = cap;
  }
  T* data_ = nullptr;
  std::size_t size_ = 0;
  std::size_t cap_ = 0;
};
[[noreturn]] inline DIFFANA_NOINLINE void tape_throw_param(int param) {
  throw std::invalid_argument("diffana::Tape: parameter index " +
                              std::to_string(param) + " must be >= 0");
}

[[noreturn]] inline DIFFANA_NOINLINE void tape_throw_mark() {
  throw std::invalid_argument("diffana::Tape::rewind: the mark is beyond the tape "
                              "(taken before a clear or an earlier rewind)");
}

[[noreturn]] inline DIFFANA_NOINLINE void tape_throw_grad_size(long long param,
                                                               std::size_t n) {
  throw std::out_of_range("diffana::Tape::sweep: parameter index " +
                          std::to_string(param) + " but grad has " + std::to_string(n) +
                          " entries");
}
} // namespace detail

/// The record of one event's computation, swept backwards to get the gradient. Not
/// copyable (one per thread; Revs point at it). Node i's edges point at nodes < i, so
/// one backward pass over the nodes visits each after everything that uses it.
class Tape {
public:
  /// An edge: the node's partial derivative with respect to its parent.
  struct Edge {
    std::int32_t parent;
    double partial;
  };

  /// Forgets every node (per event); the storage keeps its capacity. Adjoints seeded
  /// but not swept are dropped.
  void clear() {
    if (seeded_) std::fill(adjoint_.begin(), adjoint_.end(), 0.0);
    seeded_ = false;
    n_nodes_ = 0;
    edges_.clear();
    leaves_.clear();
    customs_.clear();
    custom_inputs_.clear();
    custom_data_.clear();
    open_ = -1;
  }

  /// A position on the tape (see mark and rewind).
  struct Mark {
    std::int32_t nodes = 0;
    std::size_t edges = 0;
    std::size_t leaves = 0;
    std::size_t customs = 0;
    std::size_t custom_inputs = 0;
    std::size_t custom_data = 0;
  };

  /// Where the tape is now: rewind(mark()) later forgets what was recorded after.
  Mark mark() const {
    return {n_nodes_,        edges_.size(),         leaves_.size(),
            customs_.size(), custom_inputs_.size(), custom_data_.size()};
  }

  /// Forgets every node recorded after mark m, keeping those before it (their Revs
  /// stay valid): parameters recorded once, then an event per rewind, instead of
  /// recording them again per event after clear(). Adjoints seeded but not swept are
  /// dropped. Throws std::invalid_argument for a mark beyond the tape (taken before a
  /// clear or an earlier rewind).
  void rewind(const Mark& m) {
    if (m.nodes > n_nodes_ || m.edges > edges_.size() || m.leaves > leaves_.size() ||
        m.customs > customs_.size() || m.custom_inputs > custom_inputs_.size() ||
        m.custom_data > custom_data_.size())
      detail::tape_throw_mark();
    if (seeded_) std::fill(adjoint_.begin(), adjoint_.end(), 0.0);
    seeded_ = false;
    n_nodes_ = m.nodes;
    edges_.resize_down(m.edges);
    leaves_.resize_down(m.leaves);
    customs_.resize(m.customs);
    custom_inputs_.resize(m.custom_inputs);
    custom_data_.resize(m.custom_data);
    open_ = -1;
  }

  /// Number of nodes.
  std::size_t size() const { return static_cast<std::size_t>(n_nodes_); }

  /// Whether a non-zero adjoint was seeded since the last sweep or clear (a sweep
  /// would then add something to the gradient).
  bool seeded() const { return seeded_; }

  /// Number of edges (partials stored).
  std::size_t edge_count() const { return edges_.size(); }

  /// Bytes reserved by the tape's storage (unchanged once warm: nothing allocates).
  std::size_t reserved_bytes() const {
    return edges_.capacity() * sizeof(NodeEdge) + adjoint_.capacity() * sizeof(double) +
           leaves_.capacity() * sizeof(Leaf) + customs_.capacity() * sizeof(Custom) +
           custom_inputs_.capacity() * sizeof(std::int32_t) +
           custom_data_.capacity() * sizeof(double) +
           scratch_.capacity() * sizeof(double);
  }

  // -- recording --

  /// A leaf (no parents). Returns its index.
  DIFFANA_INLINE std::int32_t push_leaf() {
    open_ = -1;
    return n_nodes_++;
  }

  /// A leaf whose adjoint is added to grad[param] by sweep.
  DIFFANA_INLINE std::int32_t push_param(int param) {
    if (param < 0) detail::tape_throw_param(param);
    // One range per leaf, unmerged: a branch less per parameter read (whose cost
    // in cling-compiled code is more than that of the longer list in the sweep).
    const std::int32_t i = push_leaf();
    leaves_.push_back({i, param, 1});
    return i;
  }

  /// count consecutive leaves for parameters first_param, first_param + 1, ... (a
  /// vector parameter read in full, recorded at once): returns the first one's
  /// index (-1 and nothing recorded for count <= 0).
  std::int32_t push_params(int first_param, std::int32_t count) {
    if (first_param < 0) detail::tape_throw_param(first_param);
    if (count <= 0) return -1;
    open_ = -1;
    const std::int32_t first = n_nodes_;
    n_nodes_ += count;
    leaves_.push_back({first, first_param, count});
    return first;
  }

  /// A node with one parent a (partial pa); -1 (nothing recorded) when a < 0.
  DIFFANA_INLINE std::int32_t push1(std::int32_t a, double pa) {
    if (a < 0) return -1;
    edges_.push_back({n_nodes_, a, pa});
    return push_leaf();
  }

  /// A node with parents a, b (partials pa, pb); constants (index < 0) are left out.
  DIFFANA_INLINE std::int32_t push2(std::int32_t a, double pa, std::int32_t b,
                                    double pb) {
    if (a < 0) return push1(b, pb);
    if (b < 0) return push1(a, pa);
    NodeEdge* e = edges_.extend(2);
    e[0] = {n_nodes_, a, pa};
    e[1] = {n_nodes_, b, pb};
    return push_leaf();
  }

  /// push1 for a parent a >= 0 (not checked): the arithmetic of Rev, which has
  /// tested its operand already.
  DIFFANA_INLINE std::int32_t push1_unchecked(std::int32_t a, double pa) {
    edges_.push_back({n_nodes_, a, pa});
    return push_leaf();
  }

  /// push2 for parents a, b >= 0 (not checked).
  DIFFANA_INLINE std::int32_t push2_unchecked(std::int32_t a, double pa, std::int32_t b,
                                              double pb) {
    NodeEdge* e = edges_.extend(2);
    e[0] = {n_nodes_, a, pa};
    e[1] = {n_nodes_, b, pb};
    return push_leaf();
  }

  /// A node with k parents (constants, index < 0, left out); -1 when all are constant.
  std::int32_t push_n(const std::int32_t* parents, const double* partials,
                      std::size_t k) {
    const std::size_t before = edges_.size();
    for (std::size_t i = 0; i < k; ++i)
      if (parents[i] >= 0) edges_.push_back({n_nodes_, parents[i], partials[i]});
    if (edges_.size() == before) return -1;
    return push_leaf();
  }

  /// A node with k edges given by edge_of(i) (an Edge; parent < 0 is left out);
  /// -1 when none is left.
  template <class EdgeOf>
  std::int32_t push_n_with(const EdgeOf& edge_of, std::size_t k) {
    const std::size_t before = edges_.size();
    for (std::size_t i = 0; i < k; ++i) {
      const Edge e = edge_of(i);
      if (e.parent >= 0) edges_.push_back({n_nodes_, e.parent, e.partial});
    }
    if (edges_.size() == before) return -1;
    return push_leaf();
  }

  /// Adds the edge (parent, partial) to node r, which add_tangent is building: appended
  /// when r is the last node and was made this way, else a new node r' with edges
  /// (r, 1) and (parent, partial). Returns the node now holding the sum.
  std::int32_t add_edge(std::int32_t r, std::int32_t parent, double partial) {
    if (parent < 0) return r;
    if (r >= 0 && r == open_ && r == last()) {
      edges_.push_back({r, parent, partial});
      return r;
    }
    const std::int32_t i = push2(r, 1.0, parent, partial);
    open_ = i;
    return i;
  }

  /// A custom op with n_in inputs (tape indices, < 0 for constants) and n_out outputs,
  /// which become n_out consecutive nodes; returns the first one's index, or -1 (and
  /// records nothing) when every input is constant. n_data numbers are copied onto
  /// the tape for the pullback; context is passed through as is (it must outlive the
  /// sweep). In the sweep, fn runs once, when the outputs' adjoints are final.
  std::int32_t push_custom(const std::int32_t* inputs, std::size_t n_in,
                           std::size_t n_out, CustomPullback fn, const double* data,
                           std::size_t n_data, void* context = nullptr) {
    return push_custom_with([inputs](std::size_t i) { return inputs[i]; }, n_in, n_out,
                            fn, data, n_data, context);
  }

  /// push_custom with the input indices given by index_of(i), i < n_in (so that
  /// callers need no index array of their own).
  template <class IndexOf>
  std::int32_t push_custom_with(const IndexOf& index_of, std::size_t n_in,
                                std::size_t n_out, CustomPullback fn,
                                const double* data, std::size_t n_data,
                                void* context = nullptr) {
    if (n_out == 0) return -1;
    bool any = false;
    for (std::size_t i = 0; i < n_in && !any; ++i)
      any = index_of(i) >= 0;
    if (!any) return -1;
    return emplace_custom(-1, 0, index_of, n_in, n_out, fn, data, n_data, context);
  }

  /// push_custom_with whose first inputs are the n_range consecutive nodes from
  /// first_range on (a range of push_params: a vector parameter's leaves), given
  /// without an index each; index_of(i), i < n_in, gives the others. In the sweep
  /// the pullback gets the range's adjoints as CustomArgs::d_range (added to in
  /// place) and d_in for the others.
  template <class IndexOf>
  std::int32_t push_custom_range(std::int32_t first_range, std::size_t n_range,
                                 const IndexOf& index_of, std::size_t n_in,
                                 std::size_t n_out, CustomPullback fn,
                                 const double* data, std::size_t n_data,
                                 void* context = nullptr) {
    if (first_range < 0 || n_range == 0)
      return push_custom_with(index_of, n_in, n_out, fn, data, n_data, context);
    if (n_out == 0) return -1;
    return emplace_custom(first_range, n_range, index_of, n_in, n_out, fn, data, n_data,
                          context);
  }

  /// Ends add_edge's appending to the last node (a Rev now shares that node).
  void seal() { open_ = -1; }

  // -- folding into the last nodes (Rev's arithmetic on a node only it refers to) --
  //
  // A node that one Rev alone refers to (the result of an operation, not copied yet)
  // may be rewritten when that Rev is consumed: f(x) for such an x that is the last
  // node becomes x's node with its edges' partials times f'(x) (the chain rule done
  // at record time), instead of a new node with an edge to x. The callers (reverse.hpp)
  // know the node's edge count (own): its edges are the last `own` edges.

  /// The index of the last node (-1 on an empty tape).
  DIFFANA_INLINE std::int32_t last_node() const { return n_nodes_ - 1; }

  /// Multiplies the partials of the last node's edges (the last `own` edges) by d. A
  /// zero d gives zero partials (no 0 * inf: the sweep skips a zero adjoint, which
  /// the node's adjoint times d would have been).
  DIFFANA_INLINE void fold_scale(std::int32_t own, double d) {
    if (d == 1.0) return;
    NodeEdge* e = edges_.data() + (edges_.size() - static_cast<std::size_t>(own));
    for (std::int32_t k = 0; k < own; ++k)
      e[k].partial = d == 0.0 ? 0.0 : e[k].partial * d;
  }

  /// Appends the edge (parent, partial) to the last node.
  DIFFANA_INLINE void fold_edge(std::int32_t parent, double partial) {
    edges_.push_back({n_nodes_ - 1, parent, partial});
  }

  /// The last node (own edges) merged into node x, the one before it: its edges'
  /// partials times d, they become x's, and the last node is dropped (x + y for
  /// nodes only x and y refer to, with x's partial 1). Nothing, and false, when the
  /// last node has an edge to x (only a Rev used after std::move can make one).
  DIFFANA_INLINE bool fold_merge(std::int32_t x, std::int32_t own, double d) {
    NodeEdge* e = edges_.data() + (edges_.size() - static_cast<std::size_t>(own));
    for (std::int32_t k = 0; k < own; ++k)
      if (e[k].parent == x) return false;
    for (std::int32_t k = 0; k < own; ++k) {
      e[k].child = x;
      e[k].partial = d == 1.0 ? e[k].partial : (d == 0.0 ? 0.0 : e[k].partial * d);
    }
    --n_nodes_;
    return true;
  }

  // -- the reverse sweep --

  /// Adds adjoint to node y's adjoint (nothing for a constant).
  void seed_index(std::int32_t y, double adjoint) {
    // A zero seed adds nothing (and leaves seeded() as it is).
    if (y < 0 || adjoint == 0.0) return;
    ensure_adjoints();
    adjoint_[static_cast<std::size_t>(y)] += adjoint;
    seeded_ = true;
  }

  /// Adds adjoint to y's adjoint (nothing for a constant y).
  template <class T> void seed(const Rev<T>& y, double adjoint);

  /// The adjoint of node i (between seed and sweep: what was seeded).
  double adjoint(std::int32_t i) const {
    return (i >= 0 && static_cast<std::size_t>(i) < adjoint_.size())
               ? adjoint_[static_cast<std::size_t>(i)]
               : 0.0;
  }

  /// Reverse sweep over the whole tape: propagates the seeded adjoints to every node,
  /// adds the adjoint of each parameter leaf to grad[param] (grad has n_params
  /// entries; a leaf with param >= n_params throws std::out_of_range), then zeroes
  /// every adjoint, so that the same tape can be seeded and swept again.
  void sweep(double* grad, std::size_t n_params) {
    const Leaf* leaves = leaves_.data();
    const std::size_t n_leaves = leaves_.size();
    for (std::size_t j = 0; j < n_leaves; ++j) {
      const long long top = static_cast<long long>(leaves[j].param) + leaves[j].count;
      if (static_cast<unsigned long long>(top) > n_params)
        detail::tape_throw_grad_size(top - 1, n_params);
    }
    ensure_adjoints();
    double* adj = adjoint_.data();
    // Edges are in node order, so backwards every edge of a node comes after every
    // edge that feeds its adjoint; a custom node runs once the edges recorded after
    // it (those of later nodes) are done, i.e. when its outputs' adjoints are final.
    std::size_t hi = edges_.size();
    for (std::size_t c = customs_.size(); c-- > 0;) {
      const Custom& cn = customs_[c];
      sweep_edges(adj, cn.edge_mark, hi);
      run_custom(cn);
      hi = cn.edge_mark;
    }
    sweep_edges(adj, 0, hi);
    for (std::size_t j = 0; j < n_leaves; ++j) {
      double* g = grad + leaves[j].param;
      const double* d = adj + leaves[j].node;
      for (std::int32_t k = 0; k < leaves[j].count; ++k)
        g[k] += d[k];
    }
    std::fill(adj, adj + size(), 0.0);
    seeded_ = false;
  }

  /// seed(y, 1) and sweep: grad[p] += dy/dp.
  template <class T>
  void gradient(const Rev<T>& y, double* grad, std::size_t n_params) {
    seed(y, 1.0);
    sweep(grad, n_params);
  }

private:
  /// An edge as stored: the node it belongs to, its parent and the partial.
  struct NodeEdge {
    std::int32_t child;
    std::int32_t parent;
    double partial;
  };
  /// count consecutive leaves from node on, for parameters param, param + 1, ...
  struct Leaf {
    std::int32_t node;
    int param;
    std::int32_t count;
  };
  struct Custom {
    CustomPullback fn;
    void* context;
    std::size_t edge_mark; // edges recorded before it
    std::size_t in_begin;
    std::size_t n_in;
    std::size_t data_begin;
    std::size_t n_data;
    std::int32_t first_out;
    std::int32_t last_out;
    std::int32_t range_first = -1; // push_custom_range: its leaf range, else -1
    std::size_t n_range = 0;
  };

  /// Records a custom node (push_custom_with, push_custom_range): its inputs, data
  /// and n_out output leaves; range_first < 0 for none.
  template <class IndexOf>
  std::int32_t emplace_custom(std::int32_t range_first, std::size_t n_range,
                              const IndexOf& index_of, std::size_t n_in,
                              std::size_t n_out, CustomPullback fn, const double* data,
                              std::size_t n_data, void* context) {
    Custom c;
    c.fn = fn;
    c.context = context;
    c.edge_mark = edges_.size();
    c.in_begin = custom_inputs_.size();
    c.n_in = n_in;
    c.data_begin = custom_data_.size();
    c.n_data = n_data;
    c.range_first = range_first;
    c.n_range = n_range;
    for (std::size_t i = 0; i < n_in; ++i)
      custom_inputs_.push_back(index_of(i));
    if (n_data > 0) custom_data_.insert(custom_data_.end(), data, data + n_data);
    const std::int32_t first = static_cast<std::int32_t>(size());
    for (std::size_t o = 0; o < n_out; ++o)
      push_leaf();
    c.first_out = first;
    c.last_out = last();
    customs_.push_back(c);
    return first;
  }

  std::int32_t last() const { return n_nodes_ - 1; }

  /// The edges [lo, hi) backwards: adj[parent] += partial * adj[child].
  void sweep_edges(double* adj, std::size_t lo, std::size_t hi) const {
    const NodeEdge* e = edges_.data();
    for (std::size_t k = hi; k > lo;) {
      --k;
      const double a = adj[e[k].child];
      // A zero adjoint adds exactly nothing, also through an infinite partial; a
      // select rather than a branch (zero adjoints are common and unpredictable).
      const double c = e[k].partial * a;
      adj[e[k].parent] += a != 0.0 ? c : 0.0;
    }
  }

  /// Adjoint storage for every node (zero beyond what a sweep left, which is zero).
  void ensure_adjoints() {
    if (adjoint_.size() < size()) adjoint_.resize(size(), 0.0);
  }

  void run_custom(const Custom& c) {
    const double* d_out = adjoint_.data() + c.first_out;
    const std::size_t n_out = static_cast<std::size_t>(c.last_out - c.first_out) + 1;
    bool any = false;
    for (std::size_t o = 0; o < n_out && !any; ++o)
      any = d_out[o] != 0.0;
    if (!any) return;
    scratch_.assign(c.n_in, 0.0);
    CustomArgs args{
        d_out,    n_out,    scratch_.data(), c.n_in, custom_data_.data() + c.data_begin,
        c.n_data, c.context};
    if (c.range_first >= 0) {
      args.d_range = adjoint_.data() + c.range_first;
      args.n_range = c.n_range;
    }
    c.fn(args);
    const std::int32_t* in = custom_inputs_.data() + c.in_begin;
    for (std::size_t k = 0; k < c.n_in; ++k)
      if (in[k] >= 0) adjoint_[static_cast<std::size_t>(in[k])] += scratch_[k];
  }

  detail::TapeBuffer<NodeEdge> edges_; // in node order
  std::vector<double> adjoint_;
  detail::TapeBuffer<Leaf> leaves_;
  std::vector<Custom> customs_; // in node order
  std::vector<std::int32_t> custom_inputs_;
  std::vector<double> custom_data_;
  std::vector<double> scratch_;
  std::int32_t n_nodes_ = 0;
  std::int32_t open_ = -1; // the node add_edge may still append to
  bool seeded_ = false;    // adjoints may be non-zero (seeded, not yet swept)
};

/// This thread's tape (one per thread, e.g. per RDataFrame slot). Out of line on
/// purpose: cling emulates thread_local (a call of __emutls_get_address, which calls
/// pthread_getspecific), and where the accessor is inlined LLVM recomputes that
/// address at every use of the returned reference (every push and sweep of a
/// caller's `Tape& tape = active_tape()`); out of line it is one call per
/// active_tape(). (The tape's recording of a custom node, seed, sweep and clear took
/// 206 ns per event in cling inlined, 130 ns out of line.)
inline DIFFANA_NOINLINE Tape& active_tape() {
  thread_local Tape tape;
  return tape;
}

} // namespace diffana
