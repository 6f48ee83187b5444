//! Reading `/visit`: the technician's evidence.

use std::collections::HashMap;
use std::sync::Arc;

use automerge::{ObjId, ReadDoc};

use super::error::JobError;
use super::memo::remembered;
use super::read::{sha256, word};
use super::reader::Node;
use super::schema::visit as key;
use super::values::{DebrisDecision, PaymentMethod};
use super::visit::{
    CleanupConfirmation, FeedbackCard, PaymentDue, PermissionGrant, Signature, StrokePoint, Visit,
    VisitStamp, WorkItem,
};

/// Reads the visit map; absent parts read as "not recorded yet".
/// `work_items`, when given, holds work items already read (see [`super::memo`]).
pub(crate) fn read_visit<D: ReadDoc>(
    node: &Node<'_, D>,
    work_items: Option<&mut HashMap<ObjId, Arc<WorkItem>>>,
) -> Result<Visit, JobError> {
    Ok(Visit {
        arrival: node.opt_map(key::ARRIVAL)?.map(|n| stamp(&n)).transpose()?,
        departure: node
            .opt_map(key::DEPARTURE)?
            .map(|n| stamp(&n))
            .transpose()?,
        permissions: maps(node, key::PERMISSIONS, permission)?,
        // Each note carries its own line end in the document (so concurrent notes stay
        // apart); the notes read as lines without the last one's.
        work_notes: node
            .opt_string(key::WORK_NOTES)?
            .map(|notes| notes.trim_end_matches('\n').to_owned())
            .unwrap_or_default(),
        work_items: remembered(node.list(key::WORK_ITEMS)?, work_items, work_item)?,
        payment_due: node
            .opt_map(key::PAYMENT_DUE)?
            .map(|n| payment(&n))
            .transpose()?,
        signature: node
            .opt_map(key::SIGNATURE)?
            .map(|n| signature(&n))
            .transpose()?,
        feedback_cards: maps(node, key::FEEDBACK_CARDS, feedback_card)?,
        cleanup: node
            .opt_map(key::CLEANUP)?
            .map(|n| cleanup(&n))
            .transpose()?,
    })
}

/// Reads a list of maps with `read_one`.
fn maps<'d, D: ReadDoc, T>(
    node: &Node<'d, D>,
    list_key: &str,
    read_one: fn(&Node<'d, D>) -> Result<T, JobError>,
) -> Result<Vec<T>, JobError> {
    node.list(list_key)?
        .into_iter()
        .map(|slot| read_one(&slot.map()?))
        .collect()
}

fn stamp<D: ReadDoc>(node: &Node<'_, D>) -> Result<VisitStamp, JobError> {
    Ok(VisitStamp {
        at: node.time(key::AT)?,
        by: node.string(key::BY)?,
    })
}

fn permission<D: ReadDoc>(node: &Node<'_, D>) -> Result<PermissionGrant, JobError> {
    Ok(PermissionGrant {
        item: node.string(key::ITEM)?,
        granted_by: node.string(key::GRANTED_BY)?,
        at: node.time(key::AT)?,
        recorded_by: node.opt_string(key::RECORDED_BY)?.unwrap_or_default(),
    })
}

pub(crate) fn work_item<D: ReadDoc>(node: &Node<'_, D>) -> Result<WorkItem, JobError> {
    Ok(WorkItem {
        description: node.string(key::DESCRIPTION)?,
        quantity: node.opt_uint(key::QUANTITY)?.unwrap_or(1),
    })
}

fn payment<D: ReadDoc>(node: &Node<'_, D>) -> Result<PaymentDue, JobError> {
    Ok(PaymentDue {
        amount_minor: node.int(key::AMOUNT_MINOR)?,
        currency: node.string(key::CURRENCY)?,
        // Read whatever was written: a cash claim must survive reading so it can be flagged.
        method: PaymentMethod::parse(&node.string(key::METHOD)?),
        transfer_reference: node
            .opt_string(key::TRANSFER_REFERENCE)?
            .unwrap_or_default(),
        recorded_by: node.opt_string(key::RECORDED_BY)?.unwrap_or_default(),
        at: node.time(key::AT)?,
    })
}

fn signature<D: ReadDoc>(node: &Node<'_, D>) -> Result<Signature, JobError> {
    let mut strokes = Vec::new();
    for stroke in node.list(key::STROKES)? {
        let path = stroke.path();
        let numbers = stroke
            .list()?
            .iter()
            .map(|n| n.int())
            .collect::<Result<Vec<_>, _>>()?;
        if numbers.len() % 2 != 0 {
            return Err(JobError::Invalid {
                path,
                reason: "a stroke holds x, y pairs but has an odd count of numbers".to_owned(),
            });
        }
        let points = numbers
            .chunks_exact(2)
            .map(|xy| StrokePoint { x: xy[0], y: xy[1] })
            .collect();
        strokes.push(points);
    }
    Ok(Signature {
        strokes,
        image_sha256: sha256(&node.require(key::IMAGE_SHA256)?)?,
        signer_name: node.string(key::SIGNER_NAME)?,
        signed_at: node.time(key::SIGNED_AT)?,
        summary_sha256: sha256(&node.require(key::SUMMARY_SHA256)?)?,
        captured_by: node.opt_string(key::CAPTURED_BY)?.unwrap_or_default(),
    })
}

fn feedback_card<D: ReadDoc>(node: &Node<'_, D>) -> Result<FeedbackCard, JobError> {
    let rating = match node.get(key::RATING)? {
        Some(slot) => {
            let value = slot.int()?;
            match u8::try_from(value) {
                Ok(stars @ 1..=5) => Some(stars),
                _ => return Err(slot.invalid(format!("rating {value} is not between 1 and 5"))),
            }
        }
        None => None,
    };
    Ok(FeedbackCard {
        photo_sha256s: node
            .list(key::PHOTO_SHA256S)?
            .iter()
            .map(sha256)
            .collect::<Result<_, _>>()?,
        rating,
        comment: node.opt_string(key::COMMENT)?,
        recorded_by: node.opt_string(key::RECORDED_BY)?.unwrap_or_default(),
        at: node.time(key::AT)?,
    })
}

fn cleanup<D: ReadDoc>(node: &Node<'_, D>) -> Result<CleanupConfirmation, JobError> {
    Ok(CleanupConfirmation {
        site_cleaned: node.opt_bool(key::SITE_CLEANED)?.unwrap_or(false),
        debris: word(
            &node.require(key::DEBRIS)?,
            DebrisDecision::parse,
            DebrisDecision::ALL,
        )?,
        consented_by: node.opt_string(key::CONSENTED_BY)?,
        departure_witnessed: node.opt_bool(key::DEPARTURE_WITNESSED)?.unwrap_or(false),
        at: node.time(key::AT)?,
        photo_sha256: node
            .get(key::PHOTO_SHA256)?
            .map(|slot| sha256(&slot))
            .transpose()?,
        recorded_by: node.opt_string(key::RECORDED_BY)?.unwrap_or_default(),
    })
}
