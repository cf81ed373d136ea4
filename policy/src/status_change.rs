//! Suspend, restore, revoke (SPEC §1.5): which status changes a permit may make. Revocation is
//! final; only an active permit is suspended, only a suspended one restored.

use serde::Serialize;

use crate::report::PermitStatus;

/// A status change an officer of the issuing district makes, with a reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StatusChange {
    /// Suspend the permit's use (使用功能中止).
    Suspend,
    /// Restore a suspended permit.
    Restore,
    /// Revoke it, for good.
    Revoke,
}

impl PermitStatus {
    /// The status after `change`, or `None` when this status does not allow it: suspend only
    /// an active permit, restore only a suspended one, revoke anything not revoked yet.
    pub fn after(self, change: StatusChange) -> Option<PermitStatus> {
        use PermitStatus::{Active, Revoked, Suspended};
        match (change, self) {
            (StatusChange::Suspend, Active) => Some(Suspended),
            (StatusChange::Restore, Suspended) => Some(Active),
            (StatusChange::Revoke, Active | Suspended) => Some(Revoked),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use PermitStatus::{Active, Revoked, Suspended};

    #[test]
    fn suspend_restore_revoke_follow_spec_1_5_and_revocation_is_final() {
        assert_eq!(Active.after(StatusChange::Suspend), Some(Suspended));
        assert_eq!(Suspended.after(StatusChange::Suspend), None);
        assert_eq!(Suspended.after(StatusChange::Restore), Some(Active));
        assert_eq!(Active.after(StatusChange::Restore), None);
        assert_eq!(Active.after(StatusChange::Revoke), Some(Revoked));
        assert_eq!(Suspended.after(StatusChange::Revoke), Some(Revoked));
        for change in [
            StatusChange::Suspend,
            StatusChange::Restore,
            StatusChange::Revoke,
        ] {
            assert_eq!(Revoked.after(change), None, "{change:?}");
        }
    }
}
