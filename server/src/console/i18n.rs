//! Every string of the console, one catalogue per language: Chinese (the default for this
//! trade) and English, chosen by a `lang` cookie set from the switch, else `Accept-Language`.

use axum::http::HeaderMap;

/// A language of the console.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Zh,
    En,
}

/// A string of the console.
#[derive(Debug, Clone, Copy)]
pub enum Text {
    Title,
    SignIn,
    SignOut,
    Login,
    Password,
    WrongPassword,
    TooManyAttempts,
    FormExpired,
    Board,
    Revisits,
    PreviousDay,
    NextDay,
    Today,
    Unassigned,
    NoJobs,
    Technician,
    Customer,
    Due,
    Overdue,
    Reason,
    Phone,
    Claimed,
    NoRevisits,
    NotForYou,
    Language,
    Review,
    SetPassword,
    NewPassword,
    PasswordRule,
    LinkUsed,
    PasswordSet,
    Claim,
    RecordOutcome,
    Reached,
    ProblemSolved,
    Satisfaction,
    Suggestions,
    Notes,
    Yes,
    No,
    Unknown,
    Save,
    Outcomes,
    Refused,
    Recorded,
}

impl Lang {
    /// The language of a request: the switch's cookie, else the first of `Accept-Language` we
    /// speak, else Chinese.
    pub fn of(headers: &HeaderMap) -> Self {
        if let Some(chosen) = super::cookie(headers, "lang") {
            return if chosen == "en" { Self::En } else { Self::Zh };
        }
        let accepted = headers
            .get("accept-language")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_ascii_lowercase();
        let first = accepted
            .split(',')
            .map(|part| part.trim())
            .find(|part| part.starts_with("zh") || part.starts_with("en"));
        match first {
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

    pub fn t(self, text: Text) -> &'static str {
        match self {
            Self::Zh => zh(text),
            Self::En => en(text),
        }
    }
}

fn zh(text: Text) -> &'static str {
    match text {
        Text::Title => "Fieldsync 办公台",
        Text::SignIn => "登录",
        Text::SignOut => "退出登录",
        Text::Login => "邮箱或姓名",
        Text::Password => "密码",
        Text::WrongPassword => "邮箱、姓名或密码不正确。",
        Text::TooManyAttempts => "尝试次数过多，请稍后再试。",
        Text::FormExpired => "表单已过期，请重新提交。",
        Text::Board => "派工看板",
        Text::Revisits => "回访台",
        Text::PreviousDay => "前一天",
        Text::NextDay => "后一天",
        Text::Today => "今天",
        Text::Unassigned => "未派工",
        Text::NoJobs => "这一天没有工单。",
        Text::Technician => "上门人员",
        Text::Customer => "客户",
        Text::Due => "应回访时间",
        Text::Overdue => "已逾期",
        Text::Reason => "原因",
        Text::Phone => "电话",
        Text::Claimed => "已认领",
        Text::NoRevisits => "没有待回访的工单。",
        Text::NotForYou => "您的角色不能查看此页面。",
        Text::Language => "English",
        Text::Review => "需复核",
        Text::SetPassword => "设置密码",
        Text::NewPassword => "新密码",
        Text::PasswordRule => "密码需10至200个字符。",
        Text::LinkUsed => "此链接已使用或已过期，请向管理员索取新的链接。",
        Text::PasswordSet => "密码已设置，请登录。",
        Text::Claim => "认领",
        Text::RecordOutcome => "记录回访结果",
        Text::Reached => "联系到客户",
        Text::ProblemSolved => "问题已解决",
        Text::Satisfaction => "满意度（1–5）",
        Text::Suggestions => "建议或新需求",
        Text::Notes => "备注",
        Text::Yes => "是",
        Text::No => "否",
        Text::Unknown => "—",
        Text::Save => "保存",
        Text::Outcomes => "回访记录",
        Text::Refused => "未执行：",
        Text::Recorded => "已记录。",
    }
}

fn en(text: Text) -> &'static str {
    match text {
        Text::Title => "Fieldsync console",
        Text::SignIn => "Sign in",
        Text::SignOut => "Sign out",
        Text::Login => "E-mail or name",
        Text::Password => "Password",
        Text::WrongPassword => "The e-mail, name or password is not right.",
        Text::TooManyAttempts => "Too many attempts; try again later.",
        Text::FormExpired => "The form expired; please send it again.",
        Text::Board => "Dispatch board",
        Text::Revisits => "Revisit desk",
        Text::PreviousDay => "Previous day",
        Text::NextDay => "Next day",
        Text::Today => "Today",
        Text::Unassigned => "Unassigned",
        Text::NoJobs => "No jobs on this day.",
        Text::Technician => "Technician",
        Text::Customer => "Customer",
        Text::Due => "Due",
        Text::Overdue => "Overdue",
        Text::Reason => "Reason",
        Text::Phone => "Phone",
        Text::Claimed => "Claimed",
        Text::NoRevisits => "No revisits waiting.",
        Text::NotForYou => "Your role cannot see this page.",
        Text::Language => "中文",
        Text::Review => "needs review",
        Text::SetPassword => "Set your password",
        Text::NewPassword => "New password",
        Text::PasswordRule => "A password has 10 to 200 characters.",
        Text::LinkUsed => "This link was used already or has expired; ask an admin for a new one.",
        Text::PasswordSet => "Your password is set; sign in.",
        Text::Claim => "Claim",
        Text::RecordOutcome => "Record the outcome",
        Text::Reached => "Customer reached",
        Text::ProblemSolved => "Problem solved",
        Text::Satisfaction => "Satisfaction (1–5)",
        Text::Suggestions => "Suggestions or new needs",
        Text::Notes => "Notes",
        Text::Yes => "yes",
        Text::No => "no",
        Text::Unknown => "—",
        Text::Save => "Save",
        Text::Outcomes => "Outcomes",
        Text::Refused => "Not done: ",
        Text::Recorded => "Recorded.",
    }
}

/// A job status as the console names it.
pub fn status(lang: Lang, status: &str) -> &'static str {
    match (lang, status) {
        (Lang::Zh, "scheduled") => "已预约",
        (Lang::Zh, "archived") => "已归档",
        (Lang::Zh, "confirmed") => "已确认",
        (Lang::Zh, "in_progress") => "进行中",
        (Lang::Zh, "awaiting_evidence") => "待补材料",
        (Lang::Zh, "complete") => "已完成",
        (Lang::Zh, "cancelled") => "已取消",
        (Lang::En, "scheduled") => "booked",
        (Lang::En, "archived") => "archived",
        (Lang::En, "confirmed") => "confirmed",
        (Lang::En, "in_progress") => "in progress",
        (Lang::En, "awaiting_evidence") => "awaiting evidence",
        (Lang::En, "complete") => "complete",
        (Lang::En, "cancelled") => "cancelled",
        (Lang::Zh, _) => "其他",
        (Lang::En, _) => "other",
    }
}

/// Why a revisit is due, as the console names it.
pub fn reason(lang: Lang, reason: &str) -> &str {
    match (lang, reason) {
        (Lang::Zh, "complaint") => "投诉处理后回访",
        (Lang::Zh, "completed_job") => "完工回访",
        (Lang::Zh, "key_customer_scheduled") => "大客户定期回访",
        (Lang::En, "complaint") => "after a complaint",
        (Lang::En, "completed_job") => "job completed",
        (Lang::En, "key_customer_scheduled") => "key customer, scheduled",
        (_, other) => other,
    }
}
