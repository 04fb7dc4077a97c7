package mapping_test

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/funnel-personio/funnel-personio/pkg/application"
	"github.com/funnel-personio/funnel-personio/pkg/mapping"
	"github.com/funnel-personio/funnel-personio/pkg/phone"
)

// A mapping turns a funnel's application event into Personio's request:
// the required assignment (names split from a full name, the e-mail), the
// optional one (phone to E.164, an option table, the CV), and the answers
// no rule uses appended to the message.
func ExampleApply() {
	cfg, err := mapping.Parse([]byte(`{"version": 1,
	  "required": {
	    "first_name": {"source": "contact.first_name", "fallback": {"source": "contact.full_name", "transforms": ["first_name"]}},
	    "last_name":  {"source": "contact.last_name",  "fallback": {"source": "contact.full_name", "transforms": ["last_name"]}},
	    "email":      {"source": "contact.email", "transforms": ["trim", "lower"]}},
	  "optional": [
	    {"target": "phone", "source": "contact.phone"},
	    {"target": "gender", "source": "answers.q_gender", "options": {"Weiblich": "female", "Männlich": "male"}},
	    {"target": "file:cv", "source": "files.q_cv"}]}`))
	if err != nil {
		panic(err)
	}
	ev, err := application.Parse([]byte(`{"type": "application.submitted", "id": "evt_1", "occurred_at": "2026-11-27T10:15:00Z",
	  "workspace_id": "ws_demo", "funnel_id": "fn_office",
	  "contact": {"full_name": "Anna van der Berg", "email": " Anna@Example.com", "phone": "0151 12345678"},
	  "answers": [{"field_id": "q_gender", "label": "Geschlecht", "type": "choice", "value": "Weiblich"},
	              {"field_id": "q_start", "label": "Start", "type": "date", "value": "01.03.2027"}],
	  "files": [{"field_id": "q_cv", "url": "https://files.example.com/cv.pdf", "filename": "cv.pdf"}]}`))
	if err != nil {
		panic(err)
	}
	res, err := mapping.Apply(ev, *cfg, phone.E164, mapping.Options{JobPositionID: 1001, Now: time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)})
	if err != nil {
		panic(err)
	}
	out, _ := json.MarshalIndent(res, "", "  ")
	fmt.Println(string(out))
	// Output:
	// {
	//   "application": {
	//     "first_name": "Anna",
	//     "last_name": "van der Berg",
	//     "email": "anna@example.com",
	//     "job_position_id": 1001,
	//     "message": "Start: 01.03.2027",
	//     "attributes": [
	//       {
	//         "id": "phone",
	//         "value": "+4915112345678"
	//       },
	//       {
	//         "id": "gender",
	//         "value": "female"
	//       }
	//     ]
	//   },
	//   "files": [
	//     {
	//       "field_id": "q_cv",
	//       "url": "https://files.example.com/cv.pdf",
	//       "filename": "cv.pdf",
	//       "category": "cv"
	//     }
	//   ]
	// }
}
