package lifecycle

// Reason says why a delivery is where it is: the one vocabulary of reason
// codes the whole system writes (delivery records, their attempts, log
// lines) and the editor explains in English and German. Personio's own
// reason codes (personio.Reason…) are what Personio answered; they appear
// in a delivery's reason text, never as its code.
type Reason string

// The reason codes.
const (
	ReasonDelivered Reason = "delivered"
	// ReasonExistsUnconfirmed: Personio has an application for the
	// e-mail and position, and the answer to an earlier try of this event
	// was lost, so it may be this one or an earlier one.
	ReasonExistsUnconfirmed Reason = "personio.exists_unconfirmed"
	// ReasonConfirmPending: like ReasonExistsUnconfirmed, and the
	// connection has read access: a read of Personio's applications did
	// not settle it yet, and it is read again later (a bounded number of
	// times).
	ReasonConfirmPending     Reason = "personio.confirm_pending"
	ReasonInvalidEvent       Reason = "event.invalid"
	ReasonNoIntegration      Reason = "integration.missing"
	ReasonDisabled           Reason = "integration.disabled"
	ReasonConnectionMissing  Reason = "connection.missing"
	ReasonMappingInvalid     Reason = "mapping.invalid"
	ReasonMappingFailed      Reason = "mapping.failed"
	ReasonPersonioValidation Reason = "personio.validation"
	ReasonDuplicate          Reason = "personio.duplicate"
	ReasonAuth               Reason = "personio.auth"
	ReasonFeatureDisabled    Reason = "personio.feature_disabled"
	ReasonRateLimited        Reason = "personio.rate_limited"
	ReasonUnavailable        Reason = "personio.unavailable"
	// ReasonOutcomeUnknown marks an attempt whose request may have reached
	// Personio although no answer came back.
	ReasonOutcomeUnknown Reason = "personio.outcome_unknown"
	ReasonFile           Reason = "file.unavailable"
	// ReasonTooManyFiles: the application's requests (its files and
	// itself) do not fit in one window of Personio's rate limit.
	ReasonTooManyFiles Reason = "files.too_many"
	ReasonBudget       Reason = "budget.wait"
	ReasonExhausted    Reason = "retries.exhausted"
	// ReasonExhaustedUnknown: every try failed, and the answer to one of
	// them was lost, so Personio may have the application.
	ReasonExhaustedUnknown Reason = "retries.exhausted_outcome_unknown"
	// ReasonStoppedUnknown: an earlier try's answer was lost, so Personio
	// may have the application, and a later try stopped before asking
	// Personio (the integration was switched off or removed, the mapping
	// or the connection changed).
	ReasonStoppedUnknown   Reason = "personio.outcome_unknown_stopped"
	ReasonRetryRequested   Reason = "retry.requested"
	ReasonCredentialsFixed Reason = "credentials.replaced"
	ReasonInternal         Reason = "internal"
	// ReasonReplayed: the platform team queued the delivery again with
	// the operator command's replay, after a fix on their side.
	ReasonReplayed Reason = "retry.operator"
	// ReasonPositionUnpublished: the job position is not published in
	// Personio; applications for it wait (parked).
	ReasonPositionUnpublished Reason = "position.unpublished"
	// ReasonPositionPublished: the position is published again (or
	// another one was chosen); the waiting applications go on.
	ReasonPositionPublished Reason = "position.published"
	// ReasonConnectionRestored: Personio accepts the connection's
	// credentials again.
	ReasonConnectionRestored Reason = "connection.restored"
)

// Reasons lists every reason code.
var Reasons = []Reason{
	ReasonDelivered, ReasonExistsUnconfirmed, ReasonConfirmPending, ReasonInvalidEvent, ReasonNoIntegration, ReasonDisabled, ReasonConnectionMissing,
	ReasonMappingInvalid, ReasonMappingFailed, ReasonPersonioValidation, ReasonDuplicate, ReasonAuth, ReasonFeatureDisabled,
	ReasonRateLimited, ReasonUnavailable, ReasonOutcomeUnknown, ReasonFile, ReasonTooManyFiles, ReasonBudget, ReasonExhausted, ReasonExhaustedUnknown, ReasonStoppedUnknown,
	ReasonRetryRequested, ReasonCredentialsFixed, ReasonInternal, ReasonPositionUnpublished, ReasonPositionPublished,
	ReasonConnectionRestored, ReasonReplayed,
}

// BudgetWait is the reason text of a delivery waiting for its turn in its
// company's line (ReasonBudget).
const BudgetWait = "waiting for the company's rate budget"
