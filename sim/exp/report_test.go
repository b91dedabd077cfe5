package exp

import "testing"

func TestFormatFloat(t *testing.T) {
	for _, c := range []struct {
		in   float64
		want string
	}{
		{0, "0"}, {0.007367, "0.007367"}, {1.2345678, "1.235"}, {9999, "9999"},
		{30820, "30820"}, {181900.4, "181900"}, {-12345.6, "-12346"}, {1e20, "1e+20"},
	} {
		if got := formatFloat(c.in); got != c.want {
			t.Errorf("formatFloat(%v) = %q, want %q", c.in, got, c.want)
		}
	}
}
