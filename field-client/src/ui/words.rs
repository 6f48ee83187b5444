//! The screen's language: Chinese by default (the trade's), English on request (the switch's
//! cookie, else the first of `Accept-Language` it speaks). Each text is written in both, where
//! it is used; the service rules' words for what is missing are here.

use axum::http::HeaderMap;
use sync_protocol::job::{CompletionCondition, JobStatus, OperationError};

use crate::error::ClientError;

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

/// A refusal as the screen says it: in the screen's language, without the command line's
/// hints or the scratch file's path (the technician took a photo, they did not name a file).
/// What the screen cannot meet is said as the library says it.
pub fn refusal(lang: Lang, error: &ClientError) -> String {
    use OperationError as Op;
    let said = |zh: &str, en: &str| match lang {
        Lang::Zh => zh.to_owned(),
        Lang::En => en.to_owned(),
    };
    match error {
        ClientError::Refused(refused) => match refused {
            Op::CashRefused | Op::UnsupportedPaymentMethod(_) => said(
                "技术人员不收现金：请客户通过银行转账付款，并告知转账附言。",
                "Technicians never take cash: the customer pays by bank transfer with the reference.",
            ),
            Op::Empty { field } => match lang {
                Lang::Zh => format!("请填写{}，不能为空。", field_zh(field)),
                Lang::En => format!("Enter the {field}; it cannot be empty."),
            },
            Op::SignatureWithoutStrokes => said(
                "签字板是空的：请客户在签字板上签名。",
                "The pad is empty: ask the customer to sign on it.",
            ),
            Op::SignatureTooSmall => said(
                "签字板上只有一个点或一小笔，不是签名：请点“重写”，请客户在签字板上签名。",
                "Only a dot or a short mark is on the pad: clear it and ask the customer to sign across it.",
            ),
            Op::CleanupWithoutConsent => said(
                "请先征求客户对垃圾处理的意见，并填写同意人。",
                "Ask the customer how to handle the debris and enter who agreed.",
            ),
            Op::FeedbackCardWithoutPhoto => said(
                "请先拍摄纸质意见卡。",
                "Take a photo of the paper feedback card first.",
            ),
            Op::RatingOutOfRange(_) => said("评分为 1 到 5。", "The rating is 1 to 5."),
            Op::AmountNotPositive(_) => {
                said("金额须大于零。", "The amount must be more than zero.")
            }
            Op::ZeroQuantity => said("数量至少为 1。", "The quantity is at least 1."),
            Op::AmountTooLarge(_) => said(
                "金额过大，请核对数字。",
                "The amount is far too large: check the figure.",
            ),
            Op::DepartureBeforeArrival => said(
                "请先记录到达，再记录离开。",
                "Record your arrival before leaving.",
            ),
            Op::ArrivalAfterDeparture => said(
                "您已离开现场，到达时间保持原记录。",
                "You have already left; the arrival stays as recorded.",
            ),
            Op::JobClosed(state) => match (lang, *state) {
                (Lang::Zh, "cancelled") => "办公室已取消此工单：开始工作前请联系调度。".to_owned(),
                (Lang::Zh, _) => "此工单已归档：不能再记录。".to_owned(),
                (Lang::En, _) => refused.to_string(),
            },
            _ => refused.to_string(),
        },
        ClientError::NotLoggedIn => said(
            "此平板尚未登录：请向办公室索取设备令牌并登录。",
            "This tablet is not logged in: ask the office for a device token and log in.",
        ),
        ClientError::NoJobList => said(
            "工单列表尚未下载到此平板：连网同步后即可看到。",
            "Your job list is not on this tablet yet: it arrives with the first sync.",
        ),
        ClientError::UnsupportedPhoto { .. } | ClientError::HeicPhoto { .. } => said(
            "这不是可用的照片（JPEG、PNG 或 WebP）：请用相机重新拍摄。",
            "This is not a photo the office can store (JPEG, PNG or WebP): take it again with the camera.",
        ),
        ClientError::PhotoTooLarge { limit, .. } => match lang {
            Lang::Zh => format!(
                "照片太大（最大 {} MB）：请用较低分辨率重新拍摄。",
                limit / (1024 * 1024)
            ),
            Lang::En => format!(
                "The photo is too large (at most {} MB): take it at a lower resolution.",
                limit / (1024 * 1024)
            ),
        },
        ClientError::InvalidAmount { .. } => said(
            "金额请填数字，最多两位小数，例如 120.50。",
            "Enter the amount in digits with at most two decimals, like 120.50.",
        ),
        ClientError::NotYourJob { .. } => said(
            "此工单未派给您：开始工作前请联系调度。",
            "This job is not assigned to you: ask dispatch before doing any work on it.",
        ),
        other => other.to_string(),
    }
}

/// The library's names of the fields a form leaves empty, in Chinese.
fn field_zh(field: &str) -> &'static str {
    match field {
        "item you were allowed to touch" => "要使用或移动的物品",
        "name of the person who allowed it" => "同意人",
        "work note" => "工作记录",
        "description of the work" => "材料或项目",
        "name of the person signing" => "签字人姓名",
        "bank transfer reference" => "转账附言",
        _ => "此项",
    }
}
