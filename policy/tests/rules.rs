//! One test per rule of SPEC §1 and §3, named after the rule.

use chrono::NaiveDate;
use policy::calendar::{add_months, parse_date};
use policy::{
    Application, Basis, Blocker, District, Endorsed, EndorsementCalendar, Error, Lapse, Period,
    PermitFacts, PermitStatus, Report, ReportInput, RuleOutcome, Stage, TooEarly, UnmetCondition,
    Window, check_application, check_carried_date, check_declared_start, report,
};

fn d(s: &str) -> NaiveDate {
    parse_date(s).unwrap()
}

fn period(district: u32, start: &str, end: Option<&str>) -> Period {
    Period::new(
        policy::DistrictCode::new(district).unwrap(),
        d(start),
        end.map(d),
    )
    .unwrap()
}

fn lapse(from: &str, until: Option<&str>) -> Lapse {
    Lapse::new(d(from), until.map(d)).unwrap()
}

fn active(issuer: District) -> Option<PermitFacts> {
    Some(PermitFacts {
        issuer,
        status: PermitStatus::Active,
    })
}

fn run(
    target: District,
    as_of: &str,
    periods: Vec<Period>,
    lapses: Vec<Lapse>,
    permit: Option<PermitFacts>,
) -> Report {
    report(&ReportInput {
        target,
        as_of: d(as_of),
        periods,
        lapses,
        permit,
    })
}

// §1.1 residence registration

#[test]
fn declared_start_may_lie_at_most_30_days_in_the_past() {
    assert_eq!(
        check_declared_start(d("2026-01-01"), d("2026-01-31")),
        Ok(())
    );
    assert_eq!(
        check_declared_start(d("2025-12-31"), d("2026-01-31")),
        Err(Error::StartTooFarInPast)
    );
}

#[test]
fn declared_start_is_never_in_the_future() {
    assert_eq!(
        check_declared_start(d("2026-01-31"), d("2026-01-31")),
        Ok(())
    );
    assert_eq!(
        check_declared_start(d("2026-02-01"), d("2026-01-31")),
        Err(Error::StartInFuture)
    );
}

#[test]
fn a_declared_start_before_1970_is_refused_as_a_day_no_credential_carries() {
    // Even with a clock that would let it through the 30-day rule.
    assert_eq!(
        check_declared_start(d("1969-12-31"), d("1970-01-15")),
        Err(Error::DateBefore1970)
    );
    assert_eq!(
        check_declared_start(d("1970-01-01"), d("1970-01-15")),
        Ok(())
    );
}

// §2 the days a credential carries

#[test]
fn a_credential_carries_days_from_1970_to_9999_only() {
    assert_eq!(
        check_carried_date(d("1969-12-31")),
        Err(Error::DateBefore1970)
    );
    assert_eq!(Error::DateBefore1970.code(), "date_before_1970");
    assert_eq!(check_carried_date(d("1970-01-01")), Ok(()));
    assert_eq!(check_carried_date(d("9999-12-31")), Ok(()));
    assert_eq!(
        check_carried_date(d("9999-12-31").succ_opt().unwrap()),
        Err(Error::DateAfter9999)
    );
    assert_eq!(policy::FIRST_CARRIED_DAY, policy::calendar::EPOCH);
}

// §1.2 permit application

fn application<'a>(date: &str, district: District, periods: &'a [Period]) -> Application<'a> {
    Application {
        date: d(date),
        district,
        periods,
        lapses: &[],
        basis: Some(Basis::Employment),
        has_evidence: true,
    }
}

#[test]
fn application_is_allowed_after_six_months_registered_in_jinhua_and_in_the_district() {
    let periods = [period(330702, "2025-01-15", None)];
    assert_eq!(
        check_application(&application("2025-07-15", District::Wucheng, &periods)),
        Ok(())
    );
}

#[test]
fn application_needs_six_calendar_months_of_continuous_registration_in_jinhua() {
    let periods = [period(330702, "2025-01-15", None)];
    let err =
        check_application(&application("2025-07-14", District::Wucheng, &periods)).unwrap_err();
    assert_eq!(
        err,
        vec![UnmetCondition::ContinuousResidenceUnderSixMonths {
            since: Some(d("2025-01-15")),
            met_on: Some(d("2025-07-15"))
        }]
    );
    assert_eq!(err[0].code(), "continuous_residence_under_six_months");
}

#[test]
fn application_counts_registration_time_anywhere_in_jinhua_mutual_recognition() {
    let periods = [
        period(330702, "2025-01-01", Some("2025-05-01")),
        period(330703, "2025-05-01", None),
    ];
    assert_eq!(
        check_application(&application("2025-07-01", District::Jindong, &periods)),
        Ok(())
    );
}

#[test]
fn application_needs_registration_in_the_district_applied_to() {
    let periods = [period(330702, "2025-01-01", None)];
    let err =
        check_application(&application("2025-09-01", District::Jindong, &periods)).unwrap_err();
    assert_eq!(err, vec![UnmetCondition::NotRegisteredInDistrict]);
}

#[test]
fn application_needs_a_basis_with_evidence_and_names_every_unmet_condition() {
    let app = Application {
        basis: None,
        has_evidence: false,
        ..application("2025-09-01", District::Jindong, &[])
    };
    let codes: Vec<_> = check_application(&app)
        .unwrap_err()
        .iter()
        .map(UnmetCondition::code)
        .collect();
    assert_eq!(
        codes,
        [
            "not_registered_in_district",
            "continuous_residence_under_six_months",
            "no_basis",
            "no_evidence"
        ]
    );
}

// §1.4 endorsement

#[test]
fn anniversary_is_issue_date_plus_whole_years() {
    let mut cal = EndorsementCalendar::new(d("2024-02-29"), &[]).unwrap();
    assert_eq!(cal.next_anniversary(), d("2025-02-28"));
    for (endorse, next) in [
        ("2025-02-01", "2026-02-28"),
        ("2026-02-01", "2027-02-28"),
        ("2027-02-01", "2028-02-29"),
    ] {
        cal.endorse(d(endorse)).unwrap();
        assert_eq!(cal.next_anniversary(), d(next));
    }
}

#[test]
fn endorsement_is_accepted_only_in_the_month_before_the_anniversary() {
    let cal = EndorsementCalendar::new(d("2025-03-31"), &[]).unwrap();
    assert_eq!(
        cal.timing(d("2026-02-27")),
        Err(TooEarly {
            window_opens: d("2026-02-28"),
            anniversary: d("2026-03-31")
        })
    );
    assert_eq!(
        cal.timing(d("2026-02-28")),
        Ok(Endorsed::InWindow {
            anniversary: d("2026-03-31"),
            next: d("2027-03-31")
        })
    );
    assert_eq!(
        cal.timing(d("2026-03-30")),
        Ok(Endorsed::InWindow {
            anniversary: d("2026-03-31"),
            next: d("2027-03-31")
        })
    );
    assert!(matches!(
        cal.timing(d("2026-03-31")),
        Ok(Endorsed::Late { .. })
    ));
}

#[test]
fn the_window_names_its_dates_and_where_a_day_falls_in_it() {
    let cal = EndorsementCalendar::new(d("2025-03-31"), &[]).unwrap();
    for (day, stage) in [
        ("2026-02-27", Stage::BeforeWindow),
        ("2026-02-28", Stage::Open),
        ("2026-03-30", Stage::Open),
        ("2026-03-31", Stage::Overdue),
    ] {
        assert_eq!(
            cal.window(d(day)),
            Window {
                opens: d("2026-02-28"),
                anniversary: d("2026-03-31"),
                stage
            },
            "{day}"
        );
    }
}

#[test]
fn early_endorsement_is_refused_and_changes_nothing() {
    let mut cal = EndorsementCalendar::new(d("2025-03-31"), &[]).unwrap();
    let before = cal.clone();
    assert_eq!(
        cal.endorse(d("2025-06-01")),
        Err(TooEarly {
            window_opens: d("2026-02-28"),
            anniversary: d("2026-03-31")
        })
    );
    assert_eq!(cal, before);
    assert_eq!(
        EndorsementCalendar::new(d("2025-03-31"), &[d("2025-06-01")]),
        Err(Error::EndorsementTooEarly)
    );
}

#[test]
fn endorsement_in_the_window_moves_validity_to_the_next_anniversary() {
    let cal = EndorsementCalendar::new(d("2025-05-10"), &[d("2026-04-20")]).unwrap();
    assert_eq!(cal.next_anniversary(), d("2027-05-10"));
    assert_eq!(cal.last_endorsed(), Some(d("2026-04-20")));
    assert!(cal.lapses(d("2027-05-09")).is_empty());
}

#[test]
fn a_permit_not_endorsed_by_its_anniversary_is_suspended_with_an_open_lapse() {
    let cal = EndorsementCalendar::new(d("2025-05-10"), &[]).unwrap();
    assert!(!cal.is_overdue_on(d("2026-05-09")));
    assert!(cal.is_overdue_on(d("2026-05-10")));
    assert_eq!(cal.lapses(d("2026-06-01")), vec![lapse("2026-05-10", None)]);
}

#[test]
fn late_endorsement_records_the_lapse_and_restarts_anniversaries_from_its_day() {
    let mut cal = EndorsementCalendar::new(d("2024-05-01"), &[d("2025-04-15")]).unwrap();
    let endorsed = cal.endorse(d("2026-06-10")).unwrap();
    assert_eq!(
        endorsed,
        Endorsed::Late {
            anniversary: d("2026-05-01"),
            lapse: lapse("2026-05-01", Some("2026-06-10")),
            next: d("2027-06-10")
        }
    );
    assert_eq!(cal.next_anniversary(), d("2027-06-10"));
    assert_eq!(
        cal.lapses(d("2026-12-31")),
        vec![lapse("2026-05-01", Some("2026-06-10"))]
    );
}

#[test]
fn an_accepted_endorsement_serialises_with_its_timing_as_the_api_returns_it() {
    let in_window = Endorsed::InWindow {
        anniversary: d("2026-03-31"),
        next: d("2027-03-31"),
    };
    assert_eq!(
        serde_json::to_value(in_window).unwrap(),
        serde_json::json!({"timing": "in_window", "anniversary": "2026-03-31", "next": "2027-03-31"})
    );
    let late = Endorsed::Late {
        anniversary: d("2026-05-01"),
        lapse: lapse("2026-05-01", Some("2026-06-10")),
        next: d("2027-06-10"),
    };
    assert_eq!(
        serde_json::to_value(late).unwrap(),
        serde_json::json!({"timing": "late", "anniversary": "2026-05-01",
            "lapse": {"from": "2026-05-01", "until": "2026-06-10"}, "next": "2027-06-10"})
    );
}

#[test]
fn endorsements_out_of_order_or_before_issue_are_refused() {
    assert_eq!(
        EndorsementCalendar::new(d("2025-05-10"), &[d("2025-05-01")]),
        Err(Error::EndorsementOutOfOrder)
    );
    assert_eq!(
        EndorsementCalendar::new(d("2024-05-10"), &[d("2025-04-20"), d("2025-04-19")]),
        Err(Error::EndorsementOutOfOrder)
    );
}

// §3 the report

#[test]
fn a_period_covers_start_to_the_day_before_its_end() {
    let r = run(
        District::Wucheng,
        "2025-03-01",
        vec![period(330702, "2025-01-01", Some("2025-01-11"))],
        vec![],
        None,
    );
    assert_eq!(r.cumulative_in_jinhua_days, 10);
    assert!(!r.registered_at_target);
}

#[test]
fn periods_starting_after_as_of_are_ignored() {
    let r = run(
        District::Wucheng,
        "2025-03-01",
        vec![period(330702, "2025-03-02", None)],
        vec![],
        None,
    );
    assert_eq!(
        (r.cumulative_in_jinhua_days, r.registered_at_target),
        (0, false)
    );
}

#[test]
fn a_period_ending_after_as_of_is_cut_there_and_means_registered_on_as_of() {
    let r = run(
        District::Wucheng,
        "2025-03-01",
        vec![period(330702, "2025-01-01", Some("2025-06-01"))],
        vec![],
        None,
    );
    assert_eq!(r.cumulative_in_jinhua_days, 59);
    assert!(r.registered_at_target);
}

#[test]
fn overlapping_periods_count_once() {
    let periods = vec![
        period(330702, "2025-01-01", Some("2025-02-01")),
        period(330703, "2025-01-15", Some("2025-02-15")),
    ];
    let r = run(District::Wucheng, "2025-03-01", periods, vec![], None);
    assert_eq!(r.cumulative_in_jinhua_days, 45);
}

#[test]
fn registration_outside_jinhua_is_a_gap() {
    let periods = vec![
        period(330702, "2025-01-01", Some("2025-02-01")),
        period(330102, "2025-02-01", Some("2025-03-01")),
        period(330702, "2025-03-01", None),
    ];
    let r = run(District::Wucheng, "2025-04-01", periods, vec![], None);
    assert_eq!(r.cumulative_in_jinhua_days, 31 + 31);
    assert_eq!(r.continuous_in_jinhua.since, Some(d("2025-03-01")));
}

#[test]
fn a_registration_starting_on_as_of_is_continuous_since_as_of_with_zero_days() {
    let r = run(
        District::Wucheng,
        "2025-03-01",
        vec![period(330702, "2025-03-01", None)],
        vec![],
        None,
    );
    assert_eq!(r.continuous_at_target.since, Some(d("2025-03-01")));
    assert_eq!(r.continuous_at_target.days, 0);
    assert_eq!(r.cumulative_in_jinhua_days, 0);
}

#[test]
fn lapses_do_not_reduce_cumulative_days_but_restart_continuity() {
    let r = run(
        District::Yongkang,
        "2025-12-31",
        vec![period(330784, "2023-05-01", None)],
        vec![lapse("2025-05-01", Some("2025-06-10"))],
        active(District::Yongkang),
    );
    assert_eq!(r.cumulative_in_jinhua_days, 975);
    assert_eq!(r.continuous_at_target.since, Some(d("2025-06-10")));
    assert_eq!(r.continuous_in_jinhua.since, Some(d("2025-06-10")));
}

#[test]
fn a_lapse_open_on_as_of_leaves_no_continuity_and_blocks_as_endorsement_overdue() {
    let r = run(
        District::Yongkang,
        "2025-12-31",
        vec![period(330784, "2023-05-01", None)],
        vec![lapse("2025-05-01", None)],
        active(District::Yongkang),
    );
    assert_eq!(
        (r.continuous_at_target.since, r.continuous_at_target.days),
        (None, 0)
    );
    assert_eq!(r.continuous_in_jinhua.since, None);
    assert_eq!(r.blockers, vec![Blocker::EndorsementOverdue]);
    assert!(
        r.rules
            .iter()
            .all(|rule| rule.met_on().is_none() && !rule.met())
    );
    assert!(!r.eligible);
}

#[test]
fn continuous_rule_is_met_twelve_months_after_since_at_the_target() {
    let r = run(
        District::Wucheng,
        "2026-01-15",
        vec![period(330702, "2025-01-15", None)],
        vec![],
        active(District::Wucheng),
    );
    assert_eq!(
        r.rules[0],
        RuleOutcome::Continuous {
            required_months: 12,
            met: true,
            met_on: Some(d("2026-01-15"))
        }
    );
}

#[test]
fn yiwu_asks_24_months_730_days_and_12_months_at_the_target() {
    let r = run(
        District::Yiwu,
        "2026-01-15",
        vec![period(330782, "2025-01-15", None)],
        vec![],
        active(District::Yiwu),
    );
    assert_eq!(
        r.rules[0],
        RuleOutcome::Continuous {
            required_months: 24,
            met: false,
            met_on: Some(d("2027-01-15"))
        }
    );
    assert_eq!(
        r.rules[1],
        RuleOutcome::Cumulative {
            required_days: 730,
            required_continuous_months: 12,
            met: false,
            met_on: Some(d("2027-01-15"))
        }
    );
}

#[test]
fn cumulative_rule_is_met_on_the_later_of_m2_months_at_target_and_the_day_d_days_are_reached() {
    // 300 days elsewhere in Jinhua, then at the target: D is reached 65 days into the target run,
    // but M2 = 6 months at the target comes later.
    let periods = vec![
        period(330702, "2024-01-01", Some("2024-10-27")),
        period(330703, "2024-10-27", None),
    ];
    let r = run(
        District::Jindong,
        "2025-01-01",
        periods,
        vec![],
        active(District::Jindong),
    );
    assert_eq!(r.cumulative_in_jinhua_days, 366);
    assert_eq!(r.rules[1].met_on(), Some(add_months(d("2024-10-27"), 6)));
    // Reaching D after as_of assumes coverage goes on unbroken.
    let r = run(
        District::Jindong,
        "2024-06-01",
        vec![period(330703, "2024-01-01", None)],
        vec![],
        active(District::Jindong),
    );
    assert_eq!(r.cumulative_in_jinhua_days, 152);
    assert_eq!(r.rules[1].met_on(), Some(d("2024-12-31")));
}

#[test]
fn residence_met_on_is_the_earlier_rule_date() {
    let periods = vec![
        period(330702, "2024-06-01", Some("2025-09-01")),
        period(330703, "2025-09-01", None),
    ];
    let r = run(
        District::Jindong,
        "2026-01-01",
        periods,
        vec![],
        active(District::Jindong),
    );
    assert_eq!(r.residence_met_on, Some(d("2026-03-01")));
    assert!(!r.residence_met);
}

#[test]
fn blockers_are_listed_in_spec_order() {
    let r = run(
        District::Jindong,
        "2026-01-01",
        vec![],
        vec![lapse("2025-12-01", None)],
        Some(PermitFacts {
            issuer: District::Wucheng,
            status: PermitStatus::Revoked,
        }),
    );
    assert_eq!(
        r.blockers,
        vec![
            Blocker::NotRegisteredAtTarget,
            Blocker::EndorsementOverdue,
            Blocker::PermitIssuerMismatch,
            Blocker::PermitRevoked
        ]
    );
    let r = run(
        District::Jindong,
        "2026-01-01",
        vec![period(330703, "2025-01-01", None)],
        vec![],
        None,
    );
    assert_eq!(r.blockers, vec![Blocker::NoPermit]);
    let r = run(
        District::Jindong,
        "2026-01-01",
        vec![period(330703, "2025-01-01", None)],
        vec![],
        Some(PermitFacts {
            issuer: District::Jindong,
            status: PermitStatus::Suspended,
        }),
    );
    assert_eq!(r.blockers, vec![Blocker::PermitSuspended]);
}

#[test]
fn eligible_needs_residence_met_and_no_blockers() {
    let periods = vec![period(330702, "2024-01-01", None)];
    assert!(
        run(
            District::Wucheng,
            "2025-06-01",
            periods.clone(),
            vec![],
            active(District::Wucheng)
        )
        .eligible
    );
    assert!(!run(District::Wucheng, "2025-06-01", periods, vec![], None).eligible);
}

#[test]
fn target_must_be_in_jinhua() {
    let err =
        policy::parse_report_request(r#"{"target":"330102","as_of":"2025-01-01","periods":[]}"#)
            .unwrap_err();
    assert_eq!(err.code(), "target_not_in_jinhua");
}

#[test]
fn a_period_ending_before_it_starts_is_an_error() {
    let err = policy::parse_report_request(r#"{"target":"330702","as_of":"2025-08-01","periods":[{"district":"330702","start":"2025-01-01","end":"2024-12-01"}]}"#).unwrap_err();
    assert_eq!(err.code(), "period_ends_before_start");
}

#[test]
fn bad_input_is_named_by_a_stable_code() {
    for (json, code) in [
        ("not json", "invalid_input"),
        (r#"{"target":"330702"}"#, "invalid_input"),
        (
            r#"{"target":"33070","as_of":"2025-01-01"}"#,
            "invalid_district",
        ),
        (
            r#"{"target":"330702","as_of":"2025-02-30"}"#,
            "invalid_date",
        ),
        (
            r#"{"target":"330702","as_of":"2025-01-01","lapses":[{"from":"2025-01-01","until":"2024-01-01"}]}"#,
            "lapse_ends_before_start",
        ),
        (
            r#"{"target":"330702","as_of":"2025-01-01","permit":{"issuer":"330102","status":"active"}}"#,
            "district_not_in_jinhua",
        ),
        (
            r#"{"target":"330702","as_of":"2025-01-01","permit":{"issuer":"330702","status":"lost"}}"#,
            "invalid_input",
        ),
        (
            r#"{"target":"330702","as_of":"2025-01-01","extra":1}"#,
            "invalid_input",
        ),
    ] {
        assert_eq!(
            policy::parse_report_request(json)
                .map(|_| ())
                .map_err(|e| e.code()),
            Err(code),
            "{json}"
        );
    }
}
