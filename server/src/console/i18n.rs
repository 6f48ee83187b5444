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
    EvidenceBundle,
    Appointment,
    Address,
    Kind,
    Window,
    Confirmation,
    RecordedBy,
    NotConfirmed,
    Complaint,
    CancelReason,
    Missing,
    Actions,
    RecordConfirmation,
    ConfirmedBy,
    Channel,
    Reschedule,
    Date,
    From,
    To,
    Reassign,
    CancelJob,
    ArchiveExplained,
    Archive,
    NoPreview,
    NotUploaded,
    Visit,
    Arrived,
    Permissions,
    GrantedBy,
    WorkNotes,
    WorkItems,
    PaymentDue,
    ByTransfer,
    TransferReference,
    Signature,
    FeedbackCards,
    Cleanup,
    SiteCleaned,
    SiteNotCleaned,
    AgreedBy,
    Witnessed,
    NotWitnessed,
    Departed,
    Timeline,
    Event,
    By,
    DeviceClock,
    ServerClock,
    Job,
    NotFound,
    BookJob,
    FindCustomer,
    Search,
    NewCustomer,
    NoCustomers,
    ComplaintReference,
    Customers,
    Analysis,
    Admin,
    Staff,
    Name,
    Role,
    Email,
    Status,
    AddMember,
    Add,
    Tablets,
    IssueToken,
    DeviceName,
    LastSync,
    PendingWork,
    Clock,
    ClockExplained,
    Webhooks,
    Enabled,
    Disabled,
    Disable,
    /// After "Disable NAME": the question a confirmation asks.
    DisableQuestion,
    EnableAgain,
    Enable,
    Attempts,
    LastAttempt,
    Tiers,
    TiersExplained,
    Recompute,
    NoPasswordYet,
    NewLink,
    Revoked,
    Revoke,
    /// After "Revoke DEVICE": the question a confirmation asks.
    RevokeQuestion,
    InvitationFor,
    ShownOnce,
    TokenIssued,
    Manage,
    Tier,
    Jobs,
    TierHistory,
    Period,
    CompletedJobs,
    Spend,
    TierFollows,
    AllOpen,
    DueToday,
    KeyCustomers,
    Pages,
    FirstPage,
    LaterTasks,
    /// After a count: calls that did not reach the customer (the task stays open).
    CallsUnanswered,
    Complaints,
    ExportCsv,
    ExportAnalysisCsv,
    ChooseRole,
    BadRequestPage,
    BackToConsole,
    EmailForOffice,
    Filter,
    CompletedAt,
    PreviousMonth,
    NextMonth,
    RevisitsDone,
    OnTime,
    CustomersReached,
    NotSolved,
    OverdueNow,
    RevisitsPerWeek,
    SatisfactionPerWeek,
    Total,
    FlagsByKind,
    ByTechnician,
    RegisterEndpoint,
    ReplaySince,
    Replay,
    RevisitPolicy,
    ComplaintDueHours,
    RegularDueHours,
    KeyCustomerDays,
    ScheduledMinStars,
    TierRules,
    Scheme,
    ThreeTiers,
    KeyMinSpend,
    KeyMinJobs,
    RegularMinJobs,
    EndpointRegistered,
    SigningSecret,
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
        Text::RegisterEndpoint => "登记接收端",
        Text::ReplaySince => "重发此日期以来的事件",
        Text::Replay => "重发",
        Text::RevisitPolicy => "回访规则",
        Text::ComplaintDueHours => "投诉工单完工后几小时内回访",
        Text::RegularDueHours => "其他工单完工后几小时内回访",
        Text::KeyCustomerDays => "重点客户定期回访（完工后天数）",
        Text::ScheduledMinStars => "星级客户：几星起定期回访",
        Text::TierRules => "分类规则",
        Text::Scheme => "分类方式",
        Text::ThreeTiers => "重点 / 一般 / 潜在",
        Text::KeyMinSpend => "重点客户：本期付款至少（元）",
        Text::KeyMinJobs => "或完成工单至少",
        Text::RegularMinJobs => "一般客户：完成工单至少",
        Text::EndpointRegistered => "已登记接收端",
        Text::SigningSecret => "签名密钥",
        Text::PreviousMonth => "上个月",
        Text::NextMonth => "下个月",
        Text::RevisitsDone => "已回访",
        Text::OnTime => "按时回访",
        Text::CustomersReached => "联系到的客户",
        Text::NotSolved => "问题未解决",
        Text::OverdueNow => "当前逾期",
        Text::RevisitsPerWeek => "每周回访数",
        Text::SatisfactionPerWeek => "每周平均满意度",
        Text::Total => "合计",
        Text::FlagsByKind => "需复核事项（按类别）",
        Text::ByTechnician => "上门人员本月情况",
        Text::AllOpen => "全部待回访",
        Text::DueToday => "今天到期",
        Text::KeyCustomers => "重点客户",
        Text::Pages => "翻页",
        Text::FirstPage => "回到第一页",
        Text::LaterTasks => "更晚到期的任务",
        Text::CallsUnanswered => "次未联系到客户",
        Text::Complaints => "投诉处理",
        Text::ExportCsv => "导出回访记录（CSV）",
        Text::ExportAnalysisCsv => "导出本月分析（CSV）",
        Text::ChooseRole => "请选择角色",
        Text::BadRequestPage => {
            "未执行：这个地址或表单有误（编号、日期或选项不正确），请从办公台的页面重新操作。"
        }
        Text::BackToConsole => "回到办公台",
        Text::EmailForOffice => "电子邮箱（办公室人员登录用，上门人员可不填）",
        Text::Filter => "筛选",
        Text::CompletedAt => "完工于",
        Text::Tier => "客户分类",
        Text::Jobs => "工单",
        Text::TierHistory => "历年分类",
        Text::Period => "统计期",
        Text::CompletedJobs => "完成工单",
        Text::Spend => "付款金额",
        Text::TierFollows => {
            "客户分类由统计期内的工单与付款数据得出，不可手工设定；新客户从最低一级开始。"
        }
        Text::Manage => "操作",
        Text::Staff => "人员",
        Text::Name => "姓名",
        Text::Role => "角色",
        Text::Email => "邮箱",
        Text::Status => "状态",
        Text::AddMember => "添加人员",
        Text::Add => "添加",
        Text::Tablets => "平板与设备令牌",
        Text::IssueToken => "发放设备令牌",
        Text::DeviceName => "设备名称",
        Text::LastSync => "最近同步",
        Text::PendingWork => "待同步（改动 / 文件）",
        Text::Clock => "办公时区",
        Text::ClockExplained => "本机构屏幕上的时间（相对UTC）；留空则用浏览器时区",
        Text::Webhooks => "Webhook 接收端",
        Text::Enabled => "启用",
        Text::Disabled => "已停用",
        Text::Disable => "停用",
        Text::DisableQuestion => "？停用后此人不能登录办公台，其平板也不能同步；之后可以重新启用。",
        Text::EnableAgain => "重新启用",
        Text::Enable => "启用",
        Text::Attempts => "尝试次数",
        Text::LastAttempt => "最近尝试",
        Text::Tiers => "客户分类",
        Text::TiersExplained => "按本期已完成工单与付款重新计算每位客户的分类（从不手工设定）。",
        Text::Recompute => "重新计算",
        Text::NoPasswordYet => "尚未设置密码",
        Text::NewLink => "新的设置密码链接",
        Text::Revoked => "已吊销",
        Text::Revoke => "吊销",
        Text::RevokeQuestion => "？此平板将不能再同步，不能撤销；需要时请发放新的令牌。",
        Text::InvitationFor => "设置密码的一次性链接，发给",
        Text::ShownOnce => "只显示这一次，请现在复制。",
        Text::TokenIssued => "已发放设备令牌：",
        Text::EvidenceBundle => "下载证据包",
        Text::Appointment => "预约",
        Text::Address => "地址",
        Text::Kind => "类型",
        Text::Window => "时段",
        Text::Confirmation => "客户确认",
        Text::RecordedBy => "记录人",
        Text::NotConfirmed => "尚未与客户确认",
        Text::Complaint => "投诉单号",
        Text::CancelReason => "取消原因",
        Text::Missing => "完工尚缺",
        Text::Actions => "调度操作",
        Text::RecordConfirmation => "记录客户确认",
        Text::ConfirmedBy => "确认人",
        Text::Channel => "方式",
        Text::Reschedule => "改约",
        Text::Date => "日期",
        Text::From => "开始",
        Text::To => "结束",
        Text::Reassign => "改派",
        Text::CancelJob => "取消工单",
        Text::ArchiveExplained => "已完成或已取消的工单可以归档：它将从上门人员的列表中移除。",
        Text::Archive => "归档",
        Text::NoPreview => "无预览",
        Text::NotUploaded => "尚未上传",
        Text::Visit => "上门记录",
        Text::Arrived => "到达",
        Text::Permissions => "使用客户物品的许可",
        Text::GrantedBy => "许可人",
        Text::WorkNotes => "工作记录",
        Text::WorkItems => "工作项目与材料",
        Text::PaymentDue => "应付款",
        Text::ByTransfer => "银行转账",
        Text::TransferReference => "转账附言",
        Text::Signature => "客户签名",
        Text::FeedbackCards => "意见卡",
        Text::Cleanup => "清理现场",
        Text::SiteCleaned => "现场已清理",
        Text::SiteNotCleaned => "现场未清理",
        Text::AgreedBy => "同意人",
        Text::Witnessed => "客户目送离开",
        Text::NotWitnessed => "客户未目送",
        Text::Departed => "离开",
        Text::Timeline => "时间线",
        Text::Event => "事件",
        Text::By => "人员",
        Text::DeviceClock => "设备时间",
        Text::ServerClock => "服务器收到时间",
        Text::Job => "工单",
        Text::NotFound => "找不到此页面：它不存在，或您无权查看。",
        Text::BookJob => "新建预约",
        Text::FindCustomer => "查找客户（姓名、电话或地址）",
        Text::Search => "查找",
        Text::NewCustomer => "新建客户",
        Text::NoCustomers => "没有找到客户。",
        Text::ComplaintReference => "投诉单号（如为投诉处理）",
        Text::Customers => "客户",
        Text::Analysis => "定期分析",
        Text::Admin => "管理",
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
        Text::RegisterEndpoint => "Register an endpoint",
        Text::ReplaySince => "Replay events since",
        Text::Replay => "Replay",
        Text::RevisitPolicy => "Revisit policy",
        Text::ComplaintDueHours => "Complaint jobs: revisit within (hours)",
        Text::RegularDueHours => "Other jobs: revisit within (hours)",
        Text::KeyCustomerDays => "Key customers' scheduled revisit (days)",
        Text::ScheduledMinStars => "Stars that earn the scheduled revisit",
        Text::TierRules => "Tier rules",
        Text::Scheme => "Scheme",
        Text::ThreeTiers => "key / regular / prospect",
        Text::KeyMinSpend => "Key customer: spend at least (yuan)",
        Text::KeyMinJobs => "or completed jobs at least",
        Text::RegularMinJobs => "Regular: completed jobs at least",
        Text::EndpointRegistered => "Endpoint registered:",
        Text::SigningSecret => "Signing secret",
        Text::PreviousMonth => "Previous month",
        Text::NextMonth => "Next month",
        Text::RevisitsDone => "Revisits done",
        Text::OnTime => "On time",
        Text::CustomersReached => "Customers reached",
        Text::NotSolved => "Problems not solved",
        Text::OverdueNow => "Overdue now",
        Text::RevisitsPerWeek => "Revisits per week",
        Text::SatisfactionPerWeek => "Average satisfaction per week",
        Text::Total => "Total",
        Text::FlagsByKind => "Review flags by kind",
        Text::ByTechnician => "By technician",
        Text::AllOpen => "All open",
        Text::DueToday => "Due today",
        Text::KeyCustomers => "Key customers",
        Text::Pages => "Pages",
        Text::FirstPage => "First page",
        Text::LaterTasks => "Later tasks",
        Text::CallsUnanswered => " call(s) did not reach the customer",
        Text::Complaints => "Complaints",
        Text::ExportCsv => "Export outcomes (CSV)",
        Text::ExportAnalysisCsv => "Export the month's analysis (CSV)",
        Text::ChooseRole => "Choose a role",
        Text::BadRequestPage => {
            "Not done: this address or form is not right (an id, a date or a choice); start again from a console page."
        }
        Text::BackToConsole => "Back to the console",
        Text::EmailForOffice => "E-mail (office staff sign in with it; not needed for technicians)",
        Text::Filter => "Filter",
        Text::CompletedAt => "completed",
        Text::Tier => "Tier",
        Text::Jobs => "Jobs",
        Text::TierHistory => "Tier by period",
        Text::Period => "Period",
        Text::CompletedJobs => "Completed jobs",
        Text::Spend => "Spend",
        Text::TierFollows => {
            "The tier follows from the period's jobs and payments and is never set by hand; a new customer starts at the lowest."
        }
        Text::Manage => "Actions",
        Text::Staff => "Staff",
        Text::Name => "Name",
        Text::Role => "Role",
        Text::Email => "E-mail",
        Text::Status => "Status",
        Text::AddMember => "Add a member",
        Text::Add => "Add",
        Text::Tablets => "Tablets and device tokens",
        Text::IssueToken => "Issue a device token",
        Text::DeviceName => "Device name",
        Text::LastSync => "Last sync",
        Text::PendingWork => "Pending (changes / files)",
        Text::Clock => "Office clock",
        Text::ClockExplained => {
            "Times on this organisation's screens (offset from UTC); blank: the browser's"
        }
        Text::Webhooks => "Webhook endpoints",
        Text::Enabled => "active",
        Text::Disabled => "disabled",
        Text::Disable => "Disable",
        Text::DisableQuestion => {
            "? They can no longer sign in, nor their tablets sync; you can enable them again."
        }
        Text::EnableAgain => "Enable again",
        Text::Enable => "Enable",
        Text::Attempts => "Attempts",
        Text::LastAttempt => "Last attempt",
        Text::Tiers => "Customer tiers",
        Text::TiersExplained => {
            "Recompute every customer's tier from the period's completed jobs and payments (never set by hand)."
        }
        Text::Recompute => "Recompute",
        Text::NoPasswordYet => "no password yet",
        Text::NewLink => "New password link",
        Text::Revoked => "revoked",
        Text::Revoke => "Revoke",
        Text::RevokeQuestion => {
            "? The tablet can no longer sync, and this cannot be undone; issue a new token when needed."
        }
        Text::InvitationFor => "One-time link to set a password, for",
        Text::ShownOnce => "Shown only this once: copy it now.",
        Text::TokenIssued => "Device token issued:",
        Text::EvidenceBundle => "Download the evidence bundle",
        Text::Appointment => "Appointment",
        Text::Address => "Address",
        Text::Kind => "Kind",
        Text::Window => "Window",
        Text::Confirmation => "Confirmation",
        Text::RecordedBy => "recorded by",
        Text::NotConfirmed => "Not confirmed with the customer",
        Text::Complaint => "Complaint",
        Text::CancelReason => "Reason for cancelling",
        Text::Missing => "Still missing for completion",
        Text::Actions => "Dispatch",
        Text::RecordConfirmation => "Record the customer's confirmation",
        Text::ConfirmedBy => "Confirmed by",
        Text::Channel => "Channel",
        Text::Reschedule => "Reschedule",
        Text::Date => "Date",
        Text::From => "From",
        Text::To => "To",
        Text::Reassign => "Reassign",
        Text::CancelJob => "Cancel the job",
        Text::ArchiveExplained => {
            "A complete or cancelled job can be archived: it leaves the technician's list."
        }
        Text::Archive => "Archive",
        Text::NoPreview => "no preview",
        Text::NotUploaded => "not uploaded yet",
        Text::Visit => "The visit as recorded",
        Text::Arrived => "Arrived",
        Text::Permissions => "Permission to use the customer's things",
        Text::GrantedBy => "allowed by",
        Text::WorkNotes => "Work notes",
        Text::WorkItems => "Work and parts",
        Text::PaymentDue => "Payment due",
        Text::ByTransfer => "by bank transfer",
        Text::TransferReference => "reference",
        Text::Signature => "Customer's signature",
        Text::FeedbackCards => "Feedback cards",
        Text::Cleanup => "Cleanup",
        Text::SiteCleaned => "site cleaned",
        Text::SiteNotCleaned => "site not cleaned",
        Text::AgreedBy => "agreed by",
        Text::Witnessed => "customer saw us leave",
        Text::NotWitnessed => "departure not witnessed",
        Text::Departed => "Departed",
        Text::Timeline => "Timeline",
        Text::Event => "Event",
        Text::By => "By",
        Text::DeviceClock => "Device clock",
        Text::ServerClock => "Server received",
        Text::Job => "Job",
        Text::NotFound => "Not found: it does not exist or you may not see it.",
        Text::BookJob => "Book a job",
        Text::FindCustomer => "Find the customer (name, phone or address)",
        Text::Search => "Search",
        Text::NewCustomer => "New customer",
        Text::NoCustomers => "No customers found.",
        Text::ComplaintReference => "Complaint reference (if handling a complaint)",
        Text::Customers => "Customers",
        Text::Analysis => "Analysis",
        Text::Admin => "Administration",
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
        (Lang::Zh, "key_customer_scheduled") => "重点客户定期回访",
        (Lang::En, "complaint") => "after a complaint",
        (Lang::En, "completed_job") => "job completed",
        (Lang::En, "key_customer_scheduled") => "key customer, scheduled",
        (_, other) => other,
    }
}

/// Looks `word` up in `(word, Chinese, English)` rows; an unknown word is shown as it is.
fn lookup<'a>(lang: Lang, word: &'a str, rows: &[(&str, &'static str, &'static str)]) -> &'a str {
    rows.iter()
        .find(|(w, _, _)| *w == word)
        .map_or(word, |(_, zh, en)| if lang == Lang::Zh { zh } else { en })
}

/// A job kind.
pub fn kind(lang: Lang, word: &str) -> &str {
    lookup(
        lang,
        word,
        &[
            ("installation", "安装", "installation"),
            ("repair", "维修", "repair"),
            ("maintenance", "保养", "maintenance"),
            ("inspection", "检查", "inspection"),
        ],
    )
}

/// How a customer confirmed an appointment.
pub fn channel(lang: Lang, word: &str) -> &str {
    lookup(
        lang,
        word,
        &[
            ("phone", "电话", "phone"),
            ("sms", "短信", "SMS"),
            ("in_person", "当面", "in person"),
        ],
    )
}

/// A customer tier (one to five stars, or key / regular / prospect).
pub fn tier(lang: Lang, word: &str) -> &str {
    lookup(
        lang,
        word,
        &[
            ("key", "重点客户", "key customer"),
            ("regular", "一般客户", "regular"),
            ("prospect", "潜在客户", "prospect"),
            ("stars_1", "★", "★"),
            ("stars_2", "★★", "★★"),
            ("stars_3", "★★★", "★★★"),
            ("stars_4", "★★★★", "★★★★"),
            ("stars_5", "★★★★★", "★★★★★"),
        ],
    )
}

/// What happened to the debris.
pub fn debris(lang: Lang, word: &str) -> &str {
    lookup(
        lang,
        word,
        &[
            ("taken_away", "垃圾已带走", "debris taken away"),
            (
                "left_at_customer_request",
                "应客户要求留下",
                "left at the customer's request",
            ),
            ("none", "无垃圾", "no debris"),
        ],
    )
}

/// A review flag, in the words of the service rules.
pub fn flag(lang: Lang, word: &str) -> &str {
    lookup(
        lang,
        word,
        &[
            (
                "arrived_without_confirmed_appointment",
                "未经客户确认预约即上门",
                "arrived before the customer confirmed the appointment",
            ),
            (
                "signature_stale",
                "客户签字后工单内容有改动",
                "the job changed after the customer signed",
            ),
            (
                "cash_claimed",
                "记录了现金收款（只允许银行转账）",
                "a cash payment is recorded (only bank transfer is allowed)",
            ),
            (
                "unsupported_payment_method",
                "记录了不允许的付款方式",
                "a payment method that is not allowed",
            ),
            (
                "work_by_unassigned_technician",
                "非指派人员记录了工作",
                "work recorded by a technician not assigned",
            ),
            (
                "departure_before_arrival",
                "离开时间早于到达时间",
                "departure before arrival",
            ),
            (
                "signed_before_arrival",
                "到达前即签字",
                "signed before the arrival",
            ),
            (
                "arrival_outside_window",
                "到达时间超出预约时段一小时以上",
                "arrival more than an hour outside the window",
            ),
            (
                "device_clock_ahead",
                "设备时钟快于服务器",
                "the device's clock runs ahead of the server's",
            ),
            (
                "work_on_cancelled_job",
                "已取消的工单上有上门记录",
                "visit work on a cancelled job",
            ),
            (
                "signature_image_not_stored",
                "签名图片尚未存储",
                "the signature image is not stored",
            ),
        ],
    )
}

/// A condition still missing for completion, in the words of the service rules.
pub fn missing(lang: Lang, word: &str) -> &str {
    lookup(
        lang,
        word,
        &[
            ("not_cancelled", "工单已取消", "the job was cancelled"),
            (
                "appointment_confirmed",
                "预约尚未与客户确认",
                "the appointment is not confirmed with the customer",
            ),
            ("arrived", "未记录到达", "the arrival is not recorded"),
            ("departed", "未记录离开", "the departure is not recorded"),
            ("signed", "客户尚未签字", "the customer has not signed"),
            (
                "signature_matches_content",
                "签字后工单内容有改动，需重新签字",
                "the job changed after the customer signed",
            ),
            (
                "feedback_card_photo_referenced",
                "没有意见卡照片",
                "no photo of the feedback card",
            ),
            (
                "feedback_card_photo_stored",
                "意见卡照片尚未上传存储",
                "the feedback card photo is not stored yet",
            ),
            (
                "cleanup_confirmed",
                "未确认清理现场",
                "cleanup is not confirmed",
            ),
            ("site_cleaned", "现场未清理", "the site was not cleaned"),
            (
                "debris_consented",
                "垃圾处理未经客户同意",
                "nobody agreed to the debris decision",
            ),
            (
                "departure_witnessed",
                "客户未目送离开",
                "the customer did not see us leave",
            ),
            (
                "no_cash_payment",
                "记录了现金收款",
                "a cash payment is recorded",
            ),
        ],
    )
}

/// A timeline event.
pub fn event(lang: Lang, word: &str) -> &str {
    lookup(
        lang,
        word,
        &[
            ("created", "建单", "booked"),
            (
                "appointment_confirmed",
                "客户确认预约",
                "appointment confirmed",
            ),
            ("rescheduled", "改约", "rescheduled"),
            ("reassigned", "改派", "reassigned"),
            ("cancelled", "取消", "cancelled"),
            ("archived", "归档", "archived"),
            ("arrived", "到达", "arrived"),
            ("permission_granted", "客户许可", "permission granted"),
            ("work_notes_edited", "工作记录", "work notes"),
            ("work_item_added", "工作项目", "work item"),
            ("payment_due_recorded", "应付款", "payment due"),
            ("signature_captured", "客户签字", "signed"),
            ("feedback_card_added", "意见卡", "feedback card"),
            ("cleanup_confirmed", "清理现场", "cleanup confirmed"),
            ("departed", "离开", "departed"),
        ],
    )
}

/// A staff role.
pub fn role(lang: Lang, word: &str) -> &str {
    lookup(
        lang,
        word,
        &[
            ("admin", "管理员", "admin"),
            ("dispatcher", "调度员", "dispatcher"),
            ("technician", "上门人员", "technician"),
            ("revisit", "回访员", "revisit caller"),
        ],
    )
}

/// A webhook event type, in words (the type itself is shown beside it for integrators).
pub fn webhook_event(lang: Lang, word: &str) -> &str {
    lookup(
        lang,
        word,
        &[
            ("job.completed", "工单完成", "job completed"),
            ("job.needs_review", "工单需复核", "job needs review"),
            ("job.reopened", "工单重新打开", "job reopened"),
            (
                "revisit.outcome_recorded",
                "回访结果已记录",
                "revisit outcome recorded",
            ),
        ],
    )
}

/// A webhook delivery's state.
pub fn delivery_state(lang: Lang, word: &str) -> &str {
    lookup(
        lang,
        word,
        &[
            ("pending", "待发送", "pending"),
            ("delivered", "已送达", "delivered"),
            ("dead", "已放弃", "given up"),
        ],
    )
}

/// A refusal's message (the API's, in English) as the console says it in `lang`. The API's
/// messages stay the contract for programs; here the common ones a form meets are said in
/// Chinese, and a message not known here is shown as the API says it.
pub fn refusal(lang: Lang, message: &str) -> String {
    if lang == Lang::En {
        return message.to_owned();
    }
    const SAID: &[(&str, &str)] = &[
        ("choose a role", "请选择角色"),
        ("choose a technician", "请选择上门人员"),
        ("choose the customer", "请选择客户"),
        (
            "fill in every number (whole numbers)",
            "请填写每个数字（整数）",
        ),
        (
            "the amount is in yuan, like 10000 or 123.45",
            "金额以元为单位，例如 10000 或 123.45",
        ),
        ("times must be HH:MM", "时间格式为 时:分，例如 09:30"),
        (
            "the date must be YYYY-MM-DD",
            "日期格式为 年-月-日，例如 2026-12-03",
        ),
        (
            "date must be YYYY-MM-DD",
            "日期格式为 年-月-日，例如 2026-12-03",
        ),
        ("that time does not exist", "该时间不存在，请检查日期和时间"),
        ("the month is YYYY-MM", "月份格式为 年-月，例如 2026-11"),
        (
            "problem_solved is yes or no",
            "问题是否解决：请选“是”或“否”",
        ),
        ("satisfaction is 1 to 5", "满意度为 1 到 5"),
        ("email must be an e-mail address", "请填写有效的电子邮箱"),
        (
            "an office member needs an e-mail to sign in with",
            "办公室人员需要填写登录用的电子邮箱",
        ),
        (
            "this e-mail cannot be used for a new member; choose another",
            "此电子邮箱不能用于新成员，请换一个",
        ),
        (
            "you cannot disable yourself; ask another admin",
            "不能停用自己，请另一位管理员操作",
        ),
        (
            "you cannot change your own role; ask another admin",
            "不能更改自己的角色，请另一位管理员操作",
        ),
        ("this member is disabled", "此人员已停用"),
        (
            "that staff member is not a technician",
            "此人员不是上门人员",
        ),
        (
            "window_end must be after window_start",
            "结束时间须晚于开始时间",
        ),
        (
            "an appointment window may be at most 14 days long",
            "预约时段最长 14 天",
        ),
        (
            "give a reason for cancelling (the technician sees it)",
            "请填写取消原因（上门人员会看到）",
        ),
        (
            "claim this revisit before recording its outcome",
            "请先领取此回访，再记录结果",
        ),
        (
            "someone else has claimed this revisit",
            "此回访已由他人领取",
        ),
        (
            "the customer was not reached: leave problem_solved and satisfaction empty",
            "未联系到客户时，“问题是否解决”和“满意度”请留空",
        ),
        ("every period must be positive", "每个时长都须大于零"),
        ("scheduled_min_stars is between 1 and 5", "星级为 1 到 5"),
        ("every threshold must be positive", "每个门槛都须大于零"),
        (
            "utc_offset is an offset from UTC such as +08:00",
            "时区为相对 UTC 的偏移，例如 +08:00",
        ),
        (
            "the clock is an offset from UTC such as +08:00",
            "时区为相对 UTC 的偏移，例如 +08:00",
        ),
        ("this job is cancelled already", "此工单已取消"),
        (
            "complaint_reference must be one line of text, without control characters",
            "投诉单号须为一行文字",
        ),
    ];
    if let Some((_, zh)) = SAID.iter().find(|(en, _)| *en == message) {
        return (*zh).to_owned();
    }
    // A field or value named inside the message.
    const FIELDS: &[(&str, &str)] = &[
        ("who confirmed", "确认人"),
        ("the channel", "确认方式"),
        ("the date", "日期"),
        ("the start", "开始时间"),
        ("the end", "结束时间"),
        ("name", "姓名"),
        ("address", "地址"),
        ("phone", "电话"),
        ("device_name", "设备名称"),
        ("suggestions", "建议"),
        ("notes", "备注"),
    ];
    let field = |name: &str| {
        FIELDS
            .iter()
            .find(|(en, _)| *en == name)
            .map_or_else(|| name.to_owned(), |(_, zh)| (*zh).to_owned())
    };
    const DONE: &[(&str, &str)] = &[
        ("confirmed", "确认"),
        ("rescheduled", "改约"),
        ("reassigned", "改派"),
        ("cancelled", "取消"),
    ];
    let done = |text: &str| {
        DONE.iter()
            .find(|(en, _)| text.starts_with(en))
            .map(|(_, zh)| *zh)
    };
    if let Some(name) = message.strip_suffix(" is needed") {
        return format!("请填写{}", field(name));
    }
    if let Some(name) =
        message.strip_suffix(" must be one line of plain text, without control characters")
    {
        return format!("{}须为一行文字，不能含控制字符", field(name));
    }
    if let Some(name) = message.strip_suffix(" must not be empty") {
        return format!("请填写{}，不能为空", field(name));
    }
    if let Some((name, rest)) = message.split_once(" may be at most ")
        && let Some(count) = rest.strip_suffix(" characters")
    {
        return format!("{}最多 {count} 个字", field(name));
    }
    for (over, zh) in [
        (
            "this job is complete",
            "此工单已完成（已签字，回访进行中），不能再{}；如需继续服务，请新建预约",
        ),
        (
            "this job is cancelled",
            "此工单已取消，不能再{}；请新建预约",
        ),
        (
            "this job is archived",
            "此工单已归档，不能再{}；如需继续服务，请新建预约",
        ),
    ] {
        if message.starts_with(over)
            && let Some((_, verb)) = message.split_once("cannot be ")
            && let Some(verb) = done(verb)
        {
            return zh.replace("{}", verb);
        }
    }
    if let Some(rest) =
        message.strip_prefix("only a complete or cancelled job can be archived; this one is ")
    {
        let now = rest.split(':').next().unwrap_or_default().replace(' ', "_");
        return format!(
            "只有已完成或已取消的工单可以归档：此工单{}，上门人员可能仍在上传工作记录；如不再进行，请先取消",
            status(Lang::Zh, &now)
        );
    }
    message.to_owned()
}

#[cfg(test)]
mod refusal_tests {
    use super::*;

    #[test]
    fn the_apis_refusals_are_said_in_chinese_and_unknown_ones_as_they_are() {
        let zh = |message: &str| refusal(Lang::Zh, message);
        assert_eq!(zh("choose the customer"), "请选择客户");
        assert_eq!(zh("the date is needed"), "请填写日期");
        assert_eq!(
            zh("device_name must not be empty"),
            "请填写设备名称，不能为空"
        );
        assert_eq!(
            zh("notes may be at most 4000 characters"),
            "备注最多 4000 个字"
        );
        assert_eq!(
            zh(
                "this job is complete (its visit is signed and its revisit under way), so it \
                cannot be rescheduled; book a new job for further work"
            ),
            "此工单已完成（已签字，回访进行中），不能再改约；如需继续服务，请新建预约"
        );
        assert_eq!(
            zh("this job is archived, so it cannot be cancelled; book a new job for further work"),
            "此工单已归档，不能再取消；如需继续服务，请新建预约"
        );
        assert!(
            zh(
                "only a complete or cancelled job can be archived; this one is awaiting evidence: \
                its technician may still be sending work, cancel it first if it will not be done"
            )
            .contains("此工单待补材料")
        );
        assert_eq!(zh("something new"), "something new");
        assert_eq!(
            refusal(Lang::En, "choose the customer"),
            "choose the customer"
        );
    }
}
