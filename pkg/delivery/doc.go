// Package delivery is what the worker does with each application event:
// validate, find the integration, claim the event, load credentials, map,
// take the company's rate budget, upload files, create the application in
// Personio, and record every state change where the editor reads it.
package delivery
