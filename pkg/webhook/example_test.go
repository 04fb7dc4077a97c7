package webhook_test

import (
	"fmt"
	"time"

	"github.com/funnel-personio/funnel-personio/pkg/webhook"
)

// The funnel platform signs each event it posts to ingest; ingest verifies
// it with the same secret (or any of several, while one is rotated).
func Example() {
	const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	body := []byte(`{"type":"application.submitted","id":"evt_1"}`)
	headers, err := webhook.Sign(secret, "msg_1", time.Now(), body)
	if err != nil {
		panic(err)
	}
	v, err := webhook.NewVerifier([]string{"whsec_bmV3LXNlY3JldC1hZnRlci1yb3RhdGlvbg==", secret})
	if err != nil {
		panic(err)
	}
	fmt.Println("genuine:", v.Verify(body, headers))
	fmt.Println("tampered:", v.Verify([]byte(`{"type":"application.submitted","id":"evt_2"}`), headers))
	// Output:
	// genuine: <nil>
	// tampered: webhook: no signature matches; check the signing secret
}

// Signing is deterministic for a message id, time and body: the spec's
// own test vector.
func ExampleSign() {
	h, _ := webhook.Sign("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek",
		time.Unix(1614265330, 0), []byte(`{"test": 2432232314}`))
	fmt.Println(h.Get("webhook-signature"))
	// Output: v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=
}
