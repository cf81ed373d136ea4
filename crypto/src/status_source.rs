//! Where [`crate::verify::verify`] finds the status list a credential points at (SPEC §2: several
//! lists, fixed-size shards, each its own URI). A credential's status claim names a list by its URI
//! (`status.uri`, the list's `sub`); a [`StatusSource`] answers with the list held for that URI.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};

use crate::status_list::StatusList;

/// The status lists a verifier holds, looked up by URI.
///
/// Implemented for one list (`StatusList`, `Option<&StatusList>`: it answers only for its own
/// URI), for slices (`[StatusList]` for generic code, `&[StatusList]` to pass as `&dyn`) and
/// vectors of lists (the first list with the URI), and for maps keyed by URI.
pub trait StatusSource {
    /// The list whose URI (`sub`) is `uri`, if held.
    fn status_list(&self, uri: &str) -> Option<&StatusList>;

    /// The latest `issued_at` of the lists held, for the `clock_suspect` warning. The default
    /// (`None`) leaves the warning to the trust list alone.
    fn newest_issued_at(&self) -> Option<DateTime<Utc>> {
        None
    }
}

fn newest<'a>(lists: impl Iterator<Item = &'a StatusList>) -> Option<DateTime<Utc>> {
    lists.map(|l| l.issued_at).max()
}

impl StatusSource for StatusList {
    fn status_list(&self, uri: &str) -> Option<&StatusList> {
        (self.uri == uri).then_some(self)
    }

    fn newest_issued_at(&self) -> Option<DateTime<Utc>> {
        Some(self.issued_at)
    }
}

impl StatusSource for Option<&StatusList> {
    fn status_list(&self, uri: &str) -> Option<&StatusList> {
        self.filter(|l| l.uri == uri)
    }

    fn newest_issued_at(&self) -> Option<DateTime<Utc>> {
        self.map(|l| l.issued_at)
    }
}

impl StatusSource for [StatusList] {
    fn status_list(&self, uri: &str) -> Option<&StatusList> {
        self.iter().find(|l| l.uri == uri)
    }

    fn newest_issued_at(&self) -> Option<DateTime<Utc>> {
        newest(self.iter())
    }
}

/// A slice behind a reference, so that `&&[StatusList]` coerces to `&dyn StatusSource` (a bare
/// `[StatusList]` is unsized and cannot).
impl StatusSource for &[StatusList] {
    fn status_list(&self, uri: &str) -> Option<&StatusList> {
        (**self).status_list(uri)
    }

    fn newest_issued_at(&self) -> Option<DateTime<Utc>> {
        (**self).newest_issued_at()
    }
}

impl StatusSource for Vec<StatusList> {
    fn status_list(&self, uri: &str) -> Option<&StatusList> {
        self.as_slice().status_list(uri)
    }

    fn newest_issued_at(&self) -> Option<DateTime<Utc>> {
        self.as_slice().newest_issued_at()
    }
}

impl StatusSource for BTreeMap<String, StatusList> {
    fn status_list(&self, uri: &str) -> Option<&StatusList> {
        self.get(uri)
    }

    fn newest_issued_at(&self) -> Option<DateTime<Utc>> {
        newest(self.values())
    }
}

impl<S: std::hash::BuildHasher> StatusSource for HashMap<String, StatusList, S> {
    fn status_list(&self, uri: &str) -> Option<&StatusList> {
        self.get(uri)
    }

    fn newest_issued_at(&self) -> Option<DateTime<Utc>> {
        newest(self.values())
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeDelta;

    use super::*;

    fn list(uri: &str, hours: i64) -> StatusList {
        let t = DateTime::from_timestamp(1_780_000_000, 0).unwrap() + TimeDelta::hours(hours);
        StatusList::new(uri, t, t + TimeDelta::days(1), 3600)
    }

    #[test]
    fn every_source_finds_a_list_by_its_uri_and_only_by_it() {
        let a = list("https://jhga.cn/sl/1", 0);
        let b = list("https://jhga.cn/sl/2", 2);
        let vec = vec![a.clone(), b.clone()];
        let btree: BTreeMap<_, _> = vec.iter().map(|l| (l.uri.clone(), l.clone())).collect();
        let hash: HashMap<_, _> = vec.iter().map(|l| (l.uri.clone(), l.clone())).collect();
        let sources: [&dyn StatusSource; 4] = [&vec, &vec.as_slice(), &btree, &hash];
        for s in sources {
            assert_eq!(s.status_list("https://jhga.cn/sl/2"), Some(&b));
            assert_eq!(s.status_list("https://jhga.cn/sl/1"), Some(&a));
            assert_eq!(s.status_list("https://jhga.cn/sl/3"), None);
            assert_eq!(s.newest_issued_at(), Some(b.issued_at));
        }
        assert_eq!(a.status_list("https://jhga.cn/sl/1"), Some(&a));
        assert_eq!(a.status_list("https://jhga.cn/sl/2"), None);
        assert_eq!(Some(&a).status_list("https://jhga.cn/sl/1"), Some(&a));
        assert_eq!(Some(&a).status_list("https://jhga.cn/sl/2"), None);
        assert_eq!(
            None::<&StatusList>.status_list("https://jhga.cn/sl/1"),
            None
        );
        assert_eq!(None::<&StatusList>.newest_issued_at(), None);
    }
}
