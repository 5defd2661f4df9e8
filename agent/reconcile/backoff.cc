#include "agent/reconcile/backoff.h"

namespace l2tp {

Backoff::Duration Backoff::Delay(int failures) const {
  if (failures <= 0) return Duration(0);
  Duration d = initial_;
  for (int i = 1; i < failures && d < max_; ++i) d *= 2;
  return d < max_ ? d : max_;
}

}  // namespace l2tp
