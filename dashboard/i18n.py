"""The UI in Chinese and English: the browser's Accept-Language chooses, a cookie remembers the switch."""

from __future__ import annotations

from collections.abc import Callable

from starlette.requests import Request

LANGUAGES = ("zh", "en")
COOKIE = "eldercare_lang"

# key: (Chinese, English)
MESSAGES: dict[str, tuple[str, str]] = {
    "app": ("智慧居家养老平台", "Eldercare platform"),
    "login": ("登录", "Sign in"),
    "logout": ("退出", "Sign out"),
    "username": ("用户名", "Username"),
    "password": ("密码", "Password"),
    "alarms": ("告警", "Alarms"),
    "alarm_board": ("实时告警", "Live alarms"),
    "orders": ("工单", "Orders"),
    "elders": ("老人", "Elders"),
    "devices": ("设备", "Devices"),
    "providers": ("服务商", "Providers"),
    "kpis": ("指标", "KPIs"),
    "map": ("地图", "Map"),
    "visits": ("回访", "Return visits"),
    "reports": ("月报", "Monthly report"),
    "no_alarms": ("当前没有未处理的告警", "No alarms waiting"),
    "acknowledge": ("确认", "Acknowledge"),
    "resolve": ("处理完毕", "Resolve"),
    "outcome": ("结果", "Outcome"),
    "real_emergency": ("真实紧急", "Real emergency"),
    "false_alarm": ("误报", "False alarm"),
    "test": ("测试", "Test"),
    "device_fault": ("设备故障", "Device fault"),
    "note": ("备注", "Note"),
    "open": ("待处理", "Open"),
    "acknowledged": ("已确认", "Acknowledged"),
    "resolved": ("已处理", "Resolved"),
    "critical": ("紧急", "Critical"),
    "warning": ("警告", "Warning"),
    "info": ("提示", "Info"),
    "age": ("年龄", "Age"),
    "years": ("岁", "yrs"),
    "ability": ("能力等级", "Ability level"),
    "ability_0": ("能力完好", "intact"),
    "ability_1": ("轻度失能", "mild loss"),
    "ability_2": ("中度失能", "moderate loss"),
    "ability_3": ("重度失能", "severe loss"),
    "ability_4": ("完全失能", "total loss"),
    "lives_alone": ("独居", "Lives alone"),
    "min_allowance": ("低保", "Minimum allowance"),
    "extreme_poverty": ("特困", "Extreme poverty"),
    "left_behind": ("留守", "Left behind"),
    "address": ("地址", "Address"),
    "phone": ("电话", "Phone"),
    "contacts": ("紧急联系人", "Emergency contacts"),
    "waiting": ("等待", "waiting"),
    "raised": ("发生", "Raised"),
    "repeats": ("重复", "repeats"),
    "live": ("实时", "live"),
    "offline_stream": ("实时连接中断，正在重连", "Live updates interrupted, reconnecting"),
    "created": ("已创建", "Created"),
    "offered": ("已派单", "Offered"),
    "accepted": ("已接单", "Accepted"),
    "en_route": ("在途", "En route"),
    "arrived": ("已到达", "Arrived"),
    "completed": ("已完成", "Completed"),
    "reviewed": ("已回访", "Reviewed"),
    "escalated": ("已升级", "Escalated"),
    "cancelled": ("已取消", "Cancelled"),
    "new_order": ("新建工单", "New order"),
    "create": ("创建", "Create"),
    "cancel": ("取消工单", "Cancel order"),
    "reason": ("原因", "Reason"),
    "reassign": ("改派", "Reassign"),
    "next_best": ("下一位最佳人选", "next best caregiver"),
    "caregiver": ("护理员", "Caregiver"),
    "provider": ("服务商", "Provider"),
    "service_type": ("服务类型", "Service type"),
    "window": ("服务时间", "Service window"),
    "elder": ("老人", "Elder"),
    "elder_id": ("老人编号(ID)", "Elder id"),
    "timeline": ("时间线", "Timeline"),
    "offers": ("派单记录", "Offers"),
    "why_chosen": ("选择理由", "Why chosen"),
    "distance": ("距离", "Distance"),
    "eta": ("预计到达", "ETA"),
    "score": ("评分", "Score"),
    "status": ("状态", "Status"),
    "search": ("搜索", "Search"),
    "search_hint": ("姓名、编号或电话", "name, code or phone"),
    "profile": ("基本信息", "Profile"),
    "vitals_24h": ("近24小时生命体征", "Vital signs, last 24 hours"),
    "vitals_30d": ("近30天（每小时）", "Last 30 days (hourly)"),
    "no_readings": ("暂无数据", "No readings"),
    "alarm_history": ("告警记录", "Alarm history"),
    "order_history": ("工单记录", "Order history"),
    "type": ("类型", "Type"),
    "online": ("在线", "Online"),
    "offline": ("离线", "Offline"),
    "battery": ("电量", "Battery"),
    "low_battery": ("低电量", "Low battery"),
    "last_seen": ("最后在线", "Last seen"),
    "never": ("从未", "never"),
    "all": ("全部", "All"),
    "total": ("合计", "Total"),
    "from": ("从", "From"),
    "to": ("到", "To"),
    "apply": ("查询", "Apply"),
    "ack_60": ("60秒内响应", "Answered ≤60 s"),
    "ack_180": ("180秒内响应", "Answered ≤180 s"),
    "target": ("目标", "target"),
    "accept_p50": ("接单时间中位数", "Acceptance p50"),
    "accept_p90": ("接单时间P90", "Acceptance p90"),
    "arrived_30": ("30分钟到达", "Arrived ≤30 min"),
    "arrived_45": ("45分钟到达", "Arrived ≤45 min"),
    "arrived_60": ("60分钟到达", "Arrived ≤60 min"),
    "fulfilment": ("履约率", "Fulfilment"),
    "satisfaction": ("满意度", "Satisfaction"),
    "by_day": ("按日", "By day"),
    "by_service_type": ("按服务类型", "By service type"),
    "by_provider": ("按服务商", "By provider"),
    "by_township": ("按乡镇街道", "By township"),
    "township": ("乡镇街道", "Township"),
    "community": ("社区", "Community"),
    "map_legend_elder": ("老人", "Elder"),
    "map_legend_alarm": ("未处理告警", "Open alarm"),
    "map_legend_caregiver": ("护理员", "Caregiver"),
    "awaiting_review": ("待回访（已完成工单）", "Completed orders awaiting a return visit"),
    "weekly_sample": ("本周抽查名单", "This week's spot-check sample"),
    "week": ("周", "Week"),
    "record_visit": ("记录回访", "Record visit"),
    "month": ("月份", "Month"),
    "hours": ("服务时长(小时)", "Hours"),
    "subsidy": ("补贴金额(元)", "Subsidy (CNY)"),
    "rate": ("单价(元/小时)", "Rate (CNY/h)"),
    "download_csv": ("下载CSV", "Download CSV"),
    "standing": ("信用状态", "Standing"),
    "red": ("红名单", "Red list"),
    "normal": ("正常", "Normal"),
    "black": ("黑名单", "Black list"),
    "save": ("保存", "Save"),
    "capacity": ("容量", "Capacity"),
    "manager": ("负责人", "Manager"),
    "services": ("服务项目", "Services"),
    "in_progress": ("进行中", "In progress"),
    "caregivers": ("护理员", "Caregivers"),
    "sign_in_locked": ("登录失败过多，已暂时锁定", "Sign-in locked after too many failures"),
    "any_account": ("所有账号", "any account"),
    "until": ("至", "until"),
    "viewer_masked": ("只读账号：电话和地址已隐藏", "Read-only account: phones and addresses are masked"),
    "error": ("出错了", "Something went wrong"),
    "back": ("返回", "Back"),
    "wrong_credentials": ("用户名或密码错误", "Wrong username or password"),
    "language": ("English", "中文"),
    "open_order": ("工单", "Order"),
    "prev": ("上一页", "Previous"),
    "next": ("下一页", "Next"),
    "minutes": ("分钟", "min"),
    "seconds": ("秒", "s"),
    "orders_count": ("工单数", "Orders"),
    "alarms_count": ("告警数", "Alarms"),
    "done": ("已提交", "Done"),
    "notes": ("说明", "Notes"),
    "pending": ("待发送", "Pending"),
    "sent": ("已发送", "Sent"),
    "declined": ("已拒绝", "Declined"),
    "expired": ("已过期", "Expired"),
    "failed": ("发送失败", "Failed"),
    # device enrolment (eldercare.device_register)
    "enrol_device": ("登记设备", "Enrol a device"),
    "device_serial": ("序列号或IMEI", "Serial or IMEI"),
    "device_id_optional": ("设备编号(可选,默认为序列号)", "Device id (optional; the serial by default)"),
    "elder_id_optional": ("绑定老人编号(可选)", "Bind to elder id (optional)"),
    "enrol": ("登记", "Enrol"),
    "device_credentials": ("设备接入凭据", "Device credentials"),
    "credentials_once": (
        "密钥只显示这一次,平台只保存其哈希。请立即写入设备。",
        "The secret is shown this once; the platform keeps only its hash. Put it into the device now.",
    ),
    "broker_username": ("MQTT用户名", "MQTT user name"),
    "secret": ("密钥", "Secret"),
    "manage_device": ("设备绑定与凭据", "Binding and credentials"),
    "device_id": ("设备编号", "Device id"),
    "bind": ("绑定", "Bind"),
    "unbind": ("解绑", "Unbind"),
    "replace_with": ("更换为新设备编号", "Replace with device id"),
    "replace": ("更换", "Replace"),
    "rotate_secret": ("更换密钥", "New secret"),
    "revoke": ("吊销凭据", "Revoke"),
    "confirm_revoke": ("吊销后该设备将无法连接,确定吗?", "After revoking, the device can no longer connect. Revoke?"),
    "confirm_unbind": (
        "解绑后该设备的数据不再归属该老人,确定吗?",
        "After unbinding, its data no longer belongs to the elder. Unbind?",
    ),
}


def choose(request: Request) -> str:
    """The language this browser reads: the remembered switch, else its Accept-Language, else Chinese."""
    remembered = request.cookies.get(COOKIE)
    if remembered in LANGUAGES:
        return remembered
    best, best_q = "zh", -1.0
    for part in request.headers.get("accept-language", "").split(","):
        tag, _, params = part.strip().partition(";")
        primary = tag.strip().lower().split("-")[0]
        if primary not in LANGUAGES:
            continue
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        if q > best_q:
            best, best_q = primary, q
    return best


def translator(language: str) -> Callable[[str], str]:
    index = 1 if language == "en" else 0

    def t(key: str) -> str:
        texts = MESSAGES.get(key)
        return texts[index] if texts else key

    return t
