package store

import (
	"context"
	"strings"
	"testing"
)

// A manager's filters over a long log must walk the indexes newest first,
// neither reading the whole log nor sorting a zone: the partial indexes are
// only used when the query says the value is not empty.
func TestEventFiltersUseTheIndexes(t *testing.T) {
	s, _ := openTest(t)
	appendN(t, s, 3)
	for _, tc := range []struct {
		name  string
		f     Filter
		index []string
	}{
		{"door", Filter{Door: "press-door"}, []string{"events_door"}},
		{"person", Filter{Person: "p-1"}, []string{"events_person"}},
		{"zone", Filter{Zone: "die-press"}, []string{"events_zone_to", "events_zone_from"}},
		{"zones", Filter{Zones: []string{"die-press", "dev-room"}}, []string{"events_zone_to", "events_zone_from"}},
		{"zone, a day", Filter{Zone: "die-press", AfterSeq: 10, BeforeSeq: 90}, []string{"events_zone_to", "events_zone_from"}},
		{"zones and person", Filter{Zones: []string{"die-press"}, Person: "p-1"}, []string{"events_person"}},
		{"door, a day", Filter{Door: "press-door", AfterSeq: 10, BeforeSeq: 90}, []string{"events_door"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q, args := eventsQuery(tc.f)
			rows, err := s.db.QueryContext(context.Background(), "EXPLAIN QUERY PLAN "+q, args...)
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			var plan []string
			for rows.Next() {
				var id, parent, unused int
				var detail string
				if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
					t.Fatal(err)
				}
				plan = append(plan, detail)
			}
			all := strings.Join(plan, "; ")
			for _, ix := range tc.index {
				if !strings.Contains(all, "INDEX "+ix) {
					t.Errorf("plan does not use %s: %s", ix, all)
				}
			}
			if strings.Contains(all, "SCAN events") {
				t.Errorf("plan reads the whole log: %s", all)
			}
			// A sort means every row of the zone, door or person is read
			// before the first is answered: a year of rows for a page.
			if strings.Contains(all, "TEMP B-TREE") {
				t.Errorf("plan sorts: %s", all)
			}
			t.Log(all)
		})
	}
}
