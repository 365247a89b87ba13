// SPDX-License-Identifier: BSD-3-Clause
/// \file
/// The name `diffana::Rev` (reverse.hpp), its trait `is_rev_v` and the declaration of
/// Rev's `detail::add_tangent` overload, for headers whose generic code must handle a
/// Rev without pulling in the tape (soft/cuts.hpp, soft/select.hpp). Declaring the
/// overload here, before those headers' templates, makes their qualified
/// `detail::add_tangent` calls find it whatever the order in which a program includes
/// them and reverse.hpp (which defines it). Needs nothing but the standard library.
#pragma once

#include <type_traits>

namespace diffana {

template <class T> class Rev;

/// True for Rev<T>.
template <class X> struct is_rev : std::false_type {};
template <class T> struct is_rev<Rev<T>> : std::true_type {};
template <class X> inline constexpr bool is_rev_v = is_rev<std::decay_t<X>>::value;

namespace detail {
/// T itself, in a context that does not deduce T.
template <class T> struct rev_identity {
  using type = T;
};

/// r += partial * d(arg) on the tape (defined in reverse.hpp).
template <class T, class A>
void add_tangent(Rev<T>& r, typename rev_identity<T>::type partial, const A& arg);
} // namespace detail

} // namespace diffana
