//! Why an approval or rejection is refused: one reason per rule of `approval::decide`, each with a
//! sentence for the person who asked (`strings::approval`).

use std::fmt;

use jiff::Timestamp;

use crate::strings::approval as s;

/// Why a decision was refused. `Display` is the sentence answered to the person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApprovalRefusal {
    Frozen,
    NotPostedHere,
    ChannelNotConfigured,
    WrongTeam,
    NotAnApprover,
    AlreadyApproved,
    AlreadyRejected,
    IncidentResolved,
    Expired { at: Timestamp },
    OwnRequest,
    AlreadyApprovedByYou,
    NotAutomatic,
    DifferentAction,
}

impl ApprovalRefusal {
    /// A stable name for audit rows and metric labels.
    pub fn rule(&self) -> &'static str {
        match self {
            ApprovalRefusal::Frozen => "read_only",
            ApprovalRefusal::NotPostedHere => "not_posted_here",
            ApprovalRefusal::ChannelNotConfigured => "channel_not_configured",
            ApprovalRefusal::WrongTeam => "wrong_team",
            ApprovalRefusal::NotAnApprover => "not_an_approver",
            ApprovalRefusal::AlreadyApproved => "already_approved",
            ApprovalRefusal::AlreadyRejected => "already_rejected",
            ApprovalRefusal::IncidentResolved => "incident_resolved",
            ApprovalRefusal::Expired { .. } => "expired",
            ApprovalRefusal::OwnRequest => "own_request",
            ApprovalRefusal::AlreadyApprovedByYou => "same_approver",
            ApprovalRefusal::NotAutomatic => "not_automatic",
            ApprovalRefusal::DifferentAction => "different_action",
        }
    }

    /// The proposal can still be decided (by someone else, somewhere else, or later).
    pub fn still_pending(&self) -> bool {
        use ApprovalRefusal as R;
        !matches!(self, R::AlreadyApproved | R::AlreadyRejected | R::IncidentResolved | R::Expired { .. })
    }

    /// The proposal is over; offering to propose again makes sense (C09).
    pub fn offer_to_propose_again(&self) -> bool {
        matches!(self, ApprovalRefusal::Expired { .. } | ApprovalRefusal::IncidentResolved)
    }
}

impl fmt::Display for ApprovalRefusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ApprovalRefusal::Frozen => s::FROZEN,
            ApprovalRefusal::NotPostedHere => s::NOT_POSTED_HERE,
            ApprovalRefusal::ChannelNotConfigured => s::CHANNEL_NOT_CONFIGURED,
            ApprovalRefusal::WrongTeam => s::WRONG_TEAM,
            ApprovalRefusal::NotAnApprover => s::NOT_AN_APPROVER,
            ApprovalRefusal::AlreadyApproved => s::ALREADY_APPROVED,
            ApprovalRefusal::AlreadyRejected => s::ALREADY_REJECTED,
            ApprovalRefusal::IncidentResolved => s::INCIDENT_RESOLVED,
            ApprovalRefusal::Expired { at } => return f.write_str(&s::expired(&at.to_string())),
            ApprovalRefusal::OwnRequest => s::OWN_REQUEST,
            ApprovalRefusal::AlreadyApprovedByYou => s::ALREADY_APPROVED_BY_YOU,
            ApprovalRefusal::NotAutomatic => s::NOT_AUTOMATIC,
            ApprovalRefusal::DifferentAction => s::DIFFERENT_ACTION,
        })
    }
}

impl std::error::Error for ApprovalRefusal {}
