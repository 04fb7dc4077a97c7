package lifecycle

// Status is where a delivery stands.
type Status string

// Delivery states. Delivered, Unconfirmed, Failed, Dead and Skipped are
// terminal; Parked waits for its cause to go (new credentials, the
// position published again). Unconfirmed is said when Personio has an
// application for the e-mail and position but the answer to an earlier
// try of this event was lost: it may be this one or an earlier
// application (each application carries its event id as a tag, so HR can
// tell).
const (
	StatusQueued      Status = "queued"
	StatusProcessing  Status = "processing"
	StatusRetrying    Status = "retrying"
	StatusDelivered   Status = "delivered"
	StatusUnconfirmed Status = "unconfirmed"
	StatusFailed      Status = "failed"
	StatusParked      Status = "parked"
	StatusDead        Status = "dead"
	StatusSkipped     Status = "skipped"
)

// Statuses lists every status.
var Statuses = []Status{StatusQueued, StatusProcessing, StatusRetrying, StatusDelivered, StatusUnconfirmed, StatusFailed, StatusParked, StatusDead, StatusSkipped}

// Terminal reports whether nothing more happens to a delivery in the
// status by itself.
func (s Status) Terminal() bool {
	switch s {
	case StatusDelivered, StatusUnconfirmed, StatusFailed, StatusDead, StatusSkipped:
		return true
	}
	return false
}

// Resting reports whether a delivery in the status waits for nothing of
// its own: terminal, or parked on a cause outside it.
func (s Status) Resting() bool { return s.Terminal() || s == StatusParked }

// OnTheWay reports whether a delivery in the status is on its way (queued,
// processing, retrying): it is neither resting nor ended, and a message
// of it is on the queue or in a worker's hands.
func (s Status) OnTheWay() bool {
	return s == StatusQueued || s == StatusProcessing || s == StatusRetrying
}

// MayHaveACopy reports whether a message of a delivery in the status may
// still be on a queue: on its way, or dead (in the dead-letter queue).
func (s Status) MayHaveACopy() bool { return s.OnTheWay() || s == StatusDead }

// IsTry reports whether an attempt with this outcome and reason counts as
// a try: every attempt with an outcome, and a 429 from Personio (recorded
// as queued again); being queued, sent again on request or waiting for the
// rate budget is no try.
func IsTry(outcome Status, reason Reason) bool {
	return outcome != StatusQueued || reason == ReasonRateLimited
}
