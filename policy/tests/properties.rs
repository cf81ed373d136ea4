//! Invariants of the rules that hold for every input (proptest).

use chrono::NaiveDate;
use policy::calendar::{add_days, add_months};
use policy::{
    District, DistrictCode, EndorsementCalendar, Lapse, Period, PermitFacts, PermitStatus,
    ReportInput, report,
};
use proptest::prelude::*;

fn base() -> NaiveDate {
    NaiveDate::from_ymd_opt(2020, 1, 1).unwrap()
}

fn day() -> impl Strategy<Value = NaiveDate> {
    (0i64..3000).prop_map(|n| add_days(base(), n))
}

fn district_code() -> impl Strategy<Value = DistrictCode> {
    prop_oneof![
        4 => (0usize..9).prop_map(|i| District::ALL[i].as_code()),
        1 => Just(DistrictCode::new(330102).unwrap()),
    ]
}

fn period() -> impl Strategy<Value = Period> {
    (district_code(), day(), proptest::option::of(0i64..900))
        .prop_map(|(d, start, len)| Period::new(d, start, len.map(|l| add_days(start, l))).unwrap())
}

fn lapse() -> impl Strategy<Value = Lapse> {
    (day(), proptest::option::weighted(0.8, 0i64..120))
        .prop_map(|(from, len)| Lapse::new(from, len.map(|l| add_days(from, l))).unwrap())
}

fn input() -> impl Strategy<Value = ReportInput> {
    (
        0usize..9,
        day(),
        proptest::collection::vec(period(), 0..6),
        proptest::collection::vec(lapse(), 0..3),
        proptest::option::of((0usize..9, 0u8..3)),
    )
        .prop_map(|(t, as_of, periods, lapses, permit)| ReportInput {
            target: District::ALL[t],
            as_of,
            periods,
            lapses,
            permit: permit.map(|(i, s)| PermitFacts {
                issuer: District::ALL[i],
                status: [
                    PermitStatus::Active,
                    PermitStatus::Suspended,
                    PermitStatus::Revoked,
                ][s as usize],
            }),
        })
}

proptest! {
    #[test]
    fn cumulative_is_at_least_continuous_in_jinhua_which_is_at_least_continuous_at_target(i in input()) {
        let r = report(&i);
        prop_assert!(r.cumulative_in_jinhua_days >= r.continuous_in_jinhua.days);
        prop_assert!(r.continuous_in_jinhua.days >= r.continuous_at_target.days);
        prop_assert!(r.continuous_at_target.days >= 0);
    }

    #[test]
    fn the_order_of_periods_and_lapses_never_matters(i in input(), seed in any::<u64>()) {
        let mut shuffled = i.clone();
        shuffled.periods.reverse();
        let n = shuffled.periods.len().max(1);
        shuffled.periods.rotate_left((seed as usize) % n);
        shuffled.lapses.reverse();
        prop_assert_eq!(report(&i), report(&shuffled));
    }

    #[test]
    fn adding_a_covered_day_never_lowers_cumulative(i in input(), extra in period()) {
        let before = report(&i).cumulative_in_jinhua_days;
        let mut more = i.clone();
        more.periods.push(extra);
        prop_assert!(report(&more).cumulative_in_jinhua_days >= before);
    }

    #[test]
    fn a_rule_is_met_iff_its_met_on_is_not_after_as_of(i in input()) {
        let r = report(&i);
        for rule in r.rules {
            prop_assert_eq!(rule.met(), rule.met_on().is_some_and(|d| d <= r.as_of));
        }
        prop_assert_eq!(r.residence_met_on, r.rules.iter().filter_map(|x| x.met_on()).min());
        prop_assert_eq!(r.residence_met, r.rules.iter().any(|x| x.met()));
        prop_assert_eq!(r.eligible, r.residence_met && r.blockers.is_empty());
    }

    #[test]
    fn since_is_never_after_as_of_and_days_count_from_it(i in input()) {
        let r = report(&i);
        for c in [r.continuous_at_target, r.continuous_in_jinhua] {
            match c.since {
                Some(since) => prop_assert_eq!((r.as_of - since).num_days(), c.days),
                None => prop_assert_eq!(c.days, 0),
            }
        }
        prop_assert_eq!(r.continuous_at_target.since.is_some() && !r.registered_at_target, false);
    }

    #[test]
    fn the_continuous_rule_is_never_met_before_six_months_at_the_target(i in input()) {
        // Both rules start from the same since; the continuous one asks M >= M2 months.
        let r = report(&i);
        if let (Some(c), Some(since)) = (r.rules[0].met_on(), r.continuous_at_target.since) {
            prop_assert!(c >= add_months(since, 6));
        }
    }

    #[test]
    fn an_endorsement_calendar_keeps_lapses_disjoint_and_validity_ahead(issued in day(), steps in proptest::collection::vec(0i64..500, 0..6)) {
        let mut cal = EndorsementCalendar::new(issued, &[]).unwrap();
        let mut today = issued;
        for step in steps {
            today = add_days(today, step);
            if cal.endorse(today).is_ok() {
                prop_assert!(cal.next_anniversary() > today);
            }
        }
        let lapses = cal.lapses(today);
        for pair in lapses.windows(2) {
            prop_assert!(pair[0].until().is_some_and(|u| u <= pair[1].from()));
        }
    }
}

#[test]
fn the_report_does_not_panic_at_the_ends_of_the_calendar() {
    let input = ReportInput {
        target: District::Yiwu,
        as_of: NaiveDate::MAX,
        periods: vec![Period::new(District::Yiwu.as_code(), NaiveDate::MIN, None).unwrap()],
        lapses: vec![],
        permit: None,
    };
    let r = report(&input);
    assert!(r.registered_at_target);
}
