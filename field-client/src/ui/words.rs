//! The screen's language: Chinese by default (the trade's), English on request (the switch's
//! cookie, else the first of `Accept-Language` it speaks). Each text is written in both, where
//! it is used; the service rules' words for what is missing are here.

use axum::http::HeaderMap;
use sync_protocol::job::{CompletionCondition, JobStatus};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Zh,
    En,
}

impl Lang {
    pub fn of(headers: &HeaderMap) -> Self {
        if let Some(chosen) = super::cookie(headers, "lang") {
            return if chosen == "en" { Self::En } else { Self::Zh };
        }
        let accepted = headers
            .get("accept-language")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_ascii_lowercase();
        match accepted
            .split(',')
            .map(str::trim)
            .find(|p| p.starts_with("zh") || p.starts_with("en"))
        {
            Some(part) if part.starts_with("en") => Self::En,
            _ => Self::Zh,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Self::Zh => "zh-CN",
            Self::En => "en",
        }
    }

    /// `zh` or `en`, as this language.
    pub fn t(self, zh: &'static str, en: &'static str) -> &'static str {
        match self {
            Self::Zh => zh,
            Self::En => en,
        }
    }
}

pub fn status(lang: Lang, status: JobStatus) -> &'static str {
    match status {
        JobStatus::Scheduled => lang.t("待客户确认", "booked"),
        JobStatus::Confirmed => lang.t("已确认", "confirmed"),
        JobStatus::InProgress => lang.t("进行中", "in progress"),
        JobStatus::AwaitingEvidence => lang.t("待补材料", "awaiting evidence"),
        JobStatus::Complete => lang.t("已完成", "complete"),
        JobStatus::Cancelled => lang.t("已取消", "cancelled"),
        JobStatus::Archived => lang.t("已归档", "archived"),
    }
}

/// What is still missing for completion, in the words of the service rules.
pub fn missing(lang: Lang, condition: CompletionCondition) -> &'static str {
    match condition {
        CompletionCondition::NotCancelled => lang.t("工单已取消", "the job was cancelled"),
        CompletionCondition::AppointmentConfirmed => lang.t(
            "预约尚未与客户确认（上门前须确认）",
            "the appointment is not confirmed with the customer",
        ),
        CompletionCondition::Arrived => lang.t("未记录到达", "the arrival is not recorded"),
        CompletionCondition::Departed => lang.t("未记录离开", "the departure is not recorded"),
        CompletionCondition::Signed => lang.t("客户尚未签字", "the customer has not signed"),
        CompletionCondition::SignatureMatchesContent => lang.t(
            "签字后工单内容有改动，请客户重新签字",
            "the job changed after the customer signed: ask them to sign again",
        ),
        CompletionCondition::FeedbackCardPhotoReferenced => lang.t(
            "请拍摄客户填写的意见卡",
            "take a photo of the feedback card",
        ),
        CompletionCondition::FeedbackCardPhotoStored => lang.t(
            "意见卡照片尚未上传到办公室",
            "the feedback card photo has not reached the office",
        ),
        CompletionCondition::CleanupConfirmed => {
            lang.t("未确认清理现场", "cleanup is not confirmed")
        }
        CompletionCondition::SiteCleaned => lang.t("现场未清理", "the site was not cleaned"),
        CompletionCondition::DebrisConsented => lang.t(
            "垃圾处理须经客户同意",
            "the customer must agree to the debris decision",
        ),
        CompletionCondition::DepartureWitnessed => {
            lang.t("离开时须客户在场目送", "the customer must see you leave")
        }
        CompletionCondition::NoCashPayment => lang.t(
            "记录了现金收款：只收银行转账",
            "cash is recorded: only bank transfer is allowed",
        ),
    }
}

pub fn kind(lang: Lang, word: &str) -> &str {
    match (lang, word) {
        (Lang::Zh, "installation") => "安装",
        (Lang::Zh, "repair") => "维修",
        (Lang::Zh, "maintenance") => "保养",
        (Lang::Zh, "inspection") => "检查",
        (_, other) => other,
    }
}

pub fn debris(lang: Lang, word: &str) -> &str {
    match word {
        "taken_away" => lang.t("已带走", "taken away"),
        "left_at_customer_request" => lang.t("应客户要求留下", "left at the customer's request"),
        "none" => lang.t("无垃圾", "no debris"),
        other => other,
    }
}

pub fn file_kind(lang: Lang, word: &str) -> &str {
    match word {
        "signature" => lang.t("签名图片", "signature"),
        "feedback_card" => lang.t("意见卡照片", "feedback card photo"),
        "cleanup" => lang.t("现场照片", "cleanup photo"),
        other => other,
    }
}
