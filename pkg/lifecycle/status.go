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
