package store

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
)

func TestRenderFixedWidthPlaceholders(t *testing.T) {
	u := expression.Set(expression.Name("a"), expression.Value(1))
	for _, n := range []string{"b", "c", "d", "e", "f", "g", "h", "i", "j", "k"} {
		u = u.Set(expression.Name(n), expression.Value(n))
	}
	u = u.Remove(expression.Name("z"))
	e, err := expression.NewBuilder().WithUpdate(u).WithCondition(expression.Name("a").Equal(expression.Value(0))).Build()
	if err != nil {
		t.Fatal(err)
	}
	b := render(e)
	if len(b.Names) != len(e.Names()) || len(b.Values) != len(e.Values()) {
		t.Fatalf("lost placeholders: %v %v", b.Names, b.Values)
	}
	for k := range b.Names {
		if len(k) != 5 {
			t.Errorf("name placeholder %q is not fixed width", k)
		}
	}
	for k := range b.Values {
		if len(k) != 5 {
			t.Errorf("value placeholder %q is not fixed width", k)
		}
	}
	want := "REMOVE #n001 SET #n000 = :v001, #n002 = :v002, #n003 = :v003, #n004 = :v004, #n005 = :v005, #n006 = :v006, #n007 = :v007, #n008 = :v008, #n009 = :v009, #n010 = :v010, #n011 = :v011"
	if *b.Update != want {
		t.Errorf("update = %q\nwant %q", *b.Update, want)
	}
}
