"""Why a prediction misses: one paragraph per experiment, chosen by the
direction of the miss.  Written from what the runs showed (see
docs/validation.md); keep it true when the model changes."""

# experiment id -> (text when the model predicts too high, ... too low)
WHY = {}


def explain(r):
    misses = [x for x in r.rows if x.key and x.within is False]
    if not misses:
        return []
    out = ["**Misses.**"]
    for x in misses:
        hi, lo = WHY.get(r.id, ("", ""))
        text = hi if x.ratio > 1 else lo
        out.append("- %s: predicted %.2fx the measurement. %s"
                   % (x.label, x.ratio, text or "Not yet explained."))
    return out
