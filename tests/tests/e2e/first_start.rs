//! Two instances started at the same moment on fresh data (issue 14 item 4: instances share
//! one database and one key directory): both start, on one set of keys.

use api::startup::Application;
use crypto::Signer;

#[actix_web::test]
async fn two_instances_starting_together_on_fresh_data_both_start_on_the_same_keys() {
    // The race is a matter of timing: a few rounds make a lost one likely without the locks.
    for round in 0..4 {
        let fresh = epermit_tests::fresh(&[], None).await;
        let (a, b) = tokio::join!(
            Application::build(fresh.settings.clone()),
            Application::build(fresh.settings.clone())
        );
        let (a, b) = match (a, b) {
            (Ok(a), Ok(b)) => (a.state(), b.state()),
            (a, b) => panic!(
                "round {round}: both must start: {:?} / {:?}",
                a.err(),
                b.err()
            ),
        };
        assert_eq!(
            a.keys.root().public_key(),
            b.keys.root().public_key(),
            "round {round}: one root key"
        );
        assert_eq!(
            a.keys.jwt().public_key(),
            b.keys.jwt().public_key(),
            "round {round}: one token key"
        );
        assert!(
            fresh
                .data_dir
                .path()
                .join(api::first_start::LOCK_FILE)
                .exists(),
            "the lock file is in the data directory"
        );
    }
}
