package userns

import (
	"reflect"
	"testing"
)

func TestPlanIDMap(t *testing.T) {
	tests := []struct {
		name           string
		inside, caller int
		sub            *SubRange
		want           IDMap
	}{
		{"single", 0, 1000, nil, IDMap{{0, 1000, 1}}},
		{"single inside 1000", 1000, 1000, nil, IDMap{{1000, 1000, 1}}},
		{"empty range", 0, 1000, &SubRange{100000, 0}, IDMap{{0, 1000, 1}}},
		{"inside 0", 0, 1000, &SubRange{100000, 65536},
			IDMap{{0, 1000, 1}, {1, 100000, 65535}}},
		{"inside 1000", 1000, 1000, &SubRange{100000, 65536},
			IDMap{{1000, 1000, 1}, {0, 100000, 1000}, {1001, 101000, 64535}}},
		{"inside 65535", 65535, 1000, &SubRange{100000, 65536},
			IDMap{{65535, 1000, 1}, {0, 100000, 65535}}},
		{"short range inside 0", 0, 1000, &SubRange{200000, 10},
			IDMap{{0, 1000, 1}, {1, 200000, 10}}},
		{"short range inside 5", 5, 1000, &SubRange{200000, 10},
			IDMap{{5, 1000, 1}, {0, 200000, 5}, {6, 200005, 5}}},
		{"short range used up below", 1000, 1000, &SubRange{200000, 10},
			IDMap{{1000, 1000, 1}, {0, 200000, 10}}},
		{"large range capped", 0, 1000, &SubRange{100000, 1 << 20},
			IDMap{{0, 1000, 1}, {1, 100000, 65535}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := PlanIDMap(tt.inside, tt.caller, tt.sub)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("PlanIDMap(%d, %d, %+v) = %+v, want %+v", tt.inside, tt.caller, tt.sub, got, tt.want)
			}
			if got.Single() != (len(tt.want) == 1) {
				t.Errorf("Single() = %v for %+v", got.Single(), got)
			}
		})
	}
}

func TestIDMapFormats(t *testing.T) {
	m := IDMap{{1000, 1000, 1}, {0, 100000, 1000}, {1001, 101000, 64535}}
	if got, want := m.String(), "1000 1000 1\n0 100000 1000\n1001 101000 64535\n"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	want := []string{"4242", "1000", "1000", "1", "0", "100000", "1000", "1001", "101000", "64535"}
	if got := m.HelperArgs(4242); !reflect.DeepEqual(got, want) {
		t.Errorf("HelperArgs(4242) = %q, want %q", got, want)
	}
	single := IDMap{{0, 1000, 1}}
	if got := single.String(); got != "0 1000 1\n" {
		t.Errorf("single String() = %q", got)
	}
	if got := single.HelperArgs(7); !reflect.DeepEqual(got, []string{"7", "0", "1000", "1"}) {
		t.Errorf("single HelperArgs(7) = %q", got)
	}
	if !single.Single() || m.Single() || (IDMap{}).Single() {
		t.Error("Single() is true only for one range")
	}
}
