// Package runbook holds the tests of the platform team's runbook
// (docs/operations.md): TestRunbook runs its runnable blocks as they stand
// against the local stack, each after making the state it is for, and
// TestSigningSecretRotation walks the signing secret's rotation with
// events in flight. It has no code of its own.
package runbook
