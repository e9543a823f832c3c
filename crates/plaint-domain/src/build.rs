//! Building commands in Rust without spelling every optional field (issue 14, embedding
//! ergonomics). The JSON import format needs none of this: its optional fields default. These
//! constructors give a Rust caller the same defaults: [`Command::new`] for the envelope,
//! `From<Body> for CommandBody` for every body, and `new` plus chained setters for the long
//! bodies ([`Receive`], [`CompensationRequest`]).
//!
//! ```
//! use plaint_domain::*;
//! let cmd = Command::new(
//!     "form-1".parse().unwrap(),
//!     "CMP-2026-000001".parse().unwrap(),
//!     "cs-014".parse().unwrap(),
//!     Receive::new(Channel::Hotline, "杭州", "快递显示已签收但本人未收到")
//!         .customer(CustomerInput::named("陈静").phone("13800138000"))
//!         .waybill("SF1234567890"),
//! );
//! assert_eq!(cmd.body.name(), "receive");
//! assert_eq!(cmd.occurred_at, None); // "now"
//! let json = serde_json::to_value(&cmd).unwrap();
//! let back: Command = serde_json::from_value(json).unwrap();
//! assert_eq!(back, cmd);
//! ```

use crate::command::*;
use crate::event::*;
use crate::ids::{Actor, CommandId, ComplaintId};
use crate::time::Timestamp;
use std::collections::BTreeMap;

impl Command {
    /// A command with business time "now" (the context's `now` when executed).
    pub fn new(command_id: CommandId, complaint_id: ComplaintId, actor: Actor, body: impl Into<CommandBody>) -> Self {
        Command {
            command_id,
            complaint_id,
            actor,
            occurred_at: None,
            body: body.into(),
        }
    }

    /// The same command with an explicit business time (imported history).
    pub fn at(mut self, occurred_at: Timestamp) -> Self {
        self.occurred_at = Some(occurred_at);
        self
    }
}

macro_rules! into_body {
    ($($name:ident),* $(,)?) => {
        $(impl From<$name> for CommandBody {
            fn from(body: $name) -> CommandBody {
                CommandBody::$name(body)
            }
        })*
    };
}

into_body!(
    Receive,
    Verify,
    Reject,
    MergeAsDuplicate,
    Classify,
    Dispatch,
    Redispatch,
    PutOnHold,
    Resume,
    Respond,
    Compensate,
    Escalate,
    Revisit,
    Reopen,
    Close,
    Withdraw,
);

impl CustomerInput {
    /// A customer known by name.
    pub fn named(name: impl Into<String>) -> Self {
        CustomerInput {
            name: Some(name.into()),
            ..Default::default()
        }
    }
    /// With a phone number (normalised and sealed by `decide`).
    pub fn phone(mut self, phone: impl Into<String>) -> Self {
        self.phone = Some(phone.into());
        self
    }
    /// With an address.
    pub fn address(mut self, address: impl Into<String>) -> Self {
        self.address = Some(address.into());
        self
    }
    /// With the back office's own customer id.
    pub fn customer_id(mut self, id: impl Into<String>) -> Self {
        self.customer_id = Some(id.into());
        self
    }
}

impl Receive {
    /// A complaint received on `channel` in `region`, every optional field empty.
    pub fn new(channel: Channel, region: impl Into<String>, description: impl Into<String>) -> Self {
        Receive {
            channel,
            contact_at: None,
            customer: CustomerInput::default(),
            waybill: None,
            description: description.into(),
            claimed_amount: None,
            evidence: Vec::new(),
            region: region.into(),
            outlet: None,
            attributes: BTreeMap::new(),
        }
    }
    /// With the customer.
    pub fn customer(mut self, customer: CustomerInput) -> Self {
        self.customer = customer;
        self
    }
    /// With the waybill (tracking number).
    pub fn waybill(mut self, waybill: impl Into<String>) -> Self {
        self.waybill = Some(waybill.into());
        self
    }
    /// With the instant the customer reached out (defaults to the command's business time).
    pub fn contact_at(mut self, at: Timestamp) -> Self {
        self.contact_at = Some(at);
        self
    }
    /// With the amount the customer claims.
    pub fn claimed_amount(mut self, amount: Money) -> Self {
        self.claimed_amount = Some(amount);
        self
    }
    /// With the outlet (营业网点) concerned.
    pub fn outlet(mut self, outlet: impl Into<String>) -> Self {
        self.outlet = Some(outlet.into());
        self
    }
    /// With one free attribute (a legacy system's column, kept for grouping).
    pub fn attribute(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.attributes.insert(key.into(), value.into());
        self
    }
}

impl CompensationRequest {
    /// A request to grant `remedy` worth `amount` (0 for non-monetary remedies); every fact of
    /// the ceiling (insurance, declared value, loss, postage) unknown, no gross negligence.
    pub fn new(remedy: Remedy, amount: Money) -> Self {
        CompensationRequest {
            remedy,
            amount,
            insured: false,
            insured_amount: None,
            full_value: None,
            actual_loss: None,
            postage: None,
            total_loss: false,
            registered_letter: false,
            gross_negligence: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_commands_equal_their_json_form() {
        let built = Command::new(
            "c-1".parse().unwrap(),
            "CMP-1".parse().unwrap(),
            "cs-1".parse().unwrap(),
            Receive::new(Channel::Counter, "杭州", "破损")
                .waybill("SF1")
                .attribute("agency", "X"),
        )
        .at(Timestamp::from_millis(1_000));
        let parsed: Command = serde_json::from_str(
            r#"{"command_id":"c-1","complaint_id":"CMP-1","actor":"cs-1","occurred_at":"1970-01-01T00:00:01Z",
                "command":"receive","channel":"counter","region":"杭州","description":"破损",
                "waybill":"SF1","attributes":{"agency":"X"}}"#,
        )
        .unwrap();
        assert_eq!(built, parsed);

        let comp: Command = serde_json::from_str(
            r#"{"command_id":"c-2","complaint_id":"CMP-1","actor":"cs-1","command":"compensate",
                "compensation":{"remedy":"payment","amount":5000}}"#,
        )
        .unwrap();
        let built = Command::new(
            "c-2".parse().unwrap(),
            "CMP-1".parse().unwrap(),
            "cs-1".parse().unwrap(),
            Compensate {
                compensation: CompensationRequest::new(Remedy::Payment, Money(5000)),
            },
        );
        assert_eq!(built, comp);
    }
}
