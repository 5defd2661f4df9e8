// The shape both state machines share: rows of (state, event) -> (action,
// next state), looked up in order. A pair that has no row is illegal.
#pragma once

#include <optional>
#include <span>

namespace l2tp::control {

template <typename State, typename Action>
struct Transition {
  Action action;
  State next;
};

template <typename State, typename Event, typename Action>
struct FsmRow {
  State state;
  Event event;
  Action action;
  State next;
};

template <typename State, typename Event, typename Action>
std::optional<Transition<State, Action>> LookUp(std::span<const FsmRow<State, Event, Action>> table,
                                                State state, Event event) {
  for (const auto& r : table) {
    if (r.state == state && r.event == event) return Transition<State, Action>{r.action, r.next};
  }
  return std::nullopt;
}

}  // namespace l2tp::control
