"""Every message the dispatcher writes to people, in Chinese and English, chosen by the reader's language."""

from __future__ import annotations

from typing import Any

from eldercare.vocabulary import ServiceType

S = ServiceType
SERVICE_NAMES: dict[str, tuple[str, str]] = {
    S.MEAL: ("助餐", "Meal delivery"),
    S.CLEANING: ("助洁", "Housekeeping"),
    S.BATHING: ("助浴", "Bathing help"),
    S.MEDICAL: ("助医", "Medical escort"),
    S.MOBILITY: ("助行", "Escort on outings"),
    S.EMERGENCY: ("助急", "Emergency"),
    S.CARE: ("护理", "Personal care"),
}

_TEXTS: dict[str, tuple[str, str]] = {
    "offer": (
        "【{service}】工单{code}：{elder}，{address}，距您{km:.1f}公里{when}。"
        "回复 Y {code} 接单，N {code} 拒绝（{ttl}内有效）。{link}",
        "[{service}] Order {code}: {elder}, {address}, {km:.1f} km from you{when}. "
        "Reply Y {code} to accept, N {code} to decline (within {ttl}). {link}",
    ),
    "accepted": (
        "已接单{code}。请尽快前往：{address}。到达后回复 ARRIVED {code}，完成后回复 DONE {code}。",
        "Order {code} is yours. Please go to: {address}. Reply ARRIVED {code} on arrival, DONE {code} when done.",
    ),
    "accepted_booked": (
        "已接单{code}。请按预约时间{window}前往：{address}。到达后回复 ARRIVED {code}，完成后回复 DONE {code}"
        "（可在后面加上老人家中卡片的6位码）。",
        "Order {code} is yours. Please be at {address} at the booked time, {window}. Reply ARRIVED {code} on "
        "arrival, DONE {code} when done (add the 6 digits of the card at the elder's home).",
    ),
    "too_early_arrived": (
        "工单{code}预约时间为{window}，现在报到达太早，未记录。如您确已到达，请在{minutes}分钟内再回复一次，"
        "将作为异常交平台核实。",
        "Order {code} is booked for {window}; it is too early to report arrival, so nothing was recorded. If you "
        "really are there, send it again within {minutes} min and the platform will check it as an exception.",
    ),
    "too_late_arrived": (
        "工单{code}预约时间为{window}，已过太久，到达未记录。如您确已到达，请在{minutes}分钟内再回复一次，"
        "将作为异常交平台核实。",
        "Order {code} was booked for {window}, long past; the arrival was not recorded. If you really are there, "
        "send it again within {minutes} min and the platform will check it as an exception.",
    ),
    "too_early_completed": (
        "工单{code}预约时间为{window}，现在报完成太早，未记录。如服务确已完成，请在{minutes}分钟内再回复一次，"
        "将作为异常交平台核实。",
        "Order {code} is booked for {window}; it is too early to report it done, so nothing was recorded. If it "
        "really is done, send it again within {minutes} min and the platform will check it as an exception.",
    ),
    "too_late_completed": (
        "工单{code}预约时间为{window}，已过太久，完成未记录。如服务确已完成，请在{minutes}分钟内再回复一次，"
        "将作为异常交平台核实。",
        "Order {code} was booked for {window}, long past; the completion was not recorded. If it really is done, "
        "send it again within {minutes} min and the platform will check it as an exception.",
    ),
    "declined": ("已拒绝工单{code}，谢谢告知。", "Order {code} declined; thank you for telling us."),
    "arrived": (
        "已记录到达工单{code}。完成后回复 DONE {code}。",
        "Arrival at {code} recorded. Reply DONE {code} when done.",
    ),
    "done": ("工单{code}已完成，辛苦了！", "Order {code} completed. Thank you!"),
    "en_route": ("已记录出发，工单{code}。", "On your way to {code}: recorded."),
    "taken": ("工单{code}已由他人接单或已结束，无需前往。", "Order {code} is already taken or closed; no need to go."),
    "taken_by_other": (
        "工单{code}已由其他护理员接单，您无需前往，谢谢。",
        "Order {code} was taken by another caregiver; no need to go. Thank you.",
    ),
    "expired": (
        "工单{code}的邀请已过期，已转给其他护理员。",
        "The offer of {code} has expired and went to someone else.",
    ),
    "full": (
        "您手上已有{load}个工单，达到上限，无法再接{code}。",
        "You already hold {load} orders, your limit; you cannot take {code}.",
    ),
    "not_yours": (
        "工单{code}不是派给您的，未做任何更改。请核对工单号。",
        "Order {code} was not offered to you; nothing changed. Please check the code.",
    ),
    "no_such_order": ("没有找到工单{code}，请核对工单号。", "There is no order {code}; please check the code."),
    "nothing_open": (
        "您目前没有待回复的工单邀请。",
        "You have no open offer to answer right now.",
    ),
    "nothing_held": ("您目前没有进行中的工单。", "You hold no order in progress right now."),
    "several": (
        "您有多个工单：{codes}。请在回复中加上工单号，例如 {example}。",
        "You have several orders: {codes}. Please add the order code to your reply, e.g. {example}.",
    ),
    "wrong_step": (
        "工单{code}当前状态为{status}，无法{action}。",
        "Order {code} is {status}; it cannot be {action} now.",
    ),
    "plan_day": (
        "【明日工作】{day} 共{count}个上门：{visits}。回复 Y 或 确认 以确认。",
        "[Your day] {day}, {count} visits: {visits}. Reply Y or CONFIRM to confirm.",
    ),
    "plan_visit": ("{n}) {time} {service} {elder} {address}", "{n}) {time} {service} {elder}, {address}"),
    "day_confirmed": ("已确认{day}的工作安排，谢谢！", "Your day {day} is confirmed. Thank you!"),
    "nothing_to_confirm": ("您目前没有待确认的工作安排。", "You have no planned day to confirm right now."),
    "help": (
        "回复 Y/1/接 接单，N/2/拒 拒绝，ARRIVED/到达 到达，DONE/完成 完成，可加工单号；STOP 退订，START 恢复。",
        "Reply Y/1 to accept, N/2 to decline, ARRIVED on arrival, DONE when done, optionally with the order code; "
        "STOP to opt out, START to opt back in.",
    ),
    "complaint_received": (
        "您的投诉已收到，我们会督促服务机构整改并回复您。",
        "Your complaint was received; the bureau will have the provider answer it and let you know.",
    ),
    "unknown_number": (
        "本号码未登记为护理员，无法处理。如有疑问请联系您所在的服务机构。",
        "This number is not registered as a caregiver, so nothing was done. Please contact your service provider.",
    ),
    "stopped": ("您已退订工单短信。回复 START 可恢复。", "You will get no more order SMS. Reply START to opt back in."),
    "started": ("您已恢复接收工单短信。", "You will receive order SMS again."),
    "withdrawn": (
        "工单{code}已取消或改派，无需前往。原因：{reason}",
        "Order {code} was cancelled or reassigned: {reason}",
    ),
    "family_alarm": (
        "【智慧养老】{elder}发出报警：{alarm}。平台已派单{code}，正在联系附近护理员。",
        "[Eldercare] Alarm for {elder}: {alarm}. Order {code} is out; we are calling a caregiver nearby.",
    ),
    "family_false_alarm": (
        "【智慧养老】{elder}的报警经核实为误报，工单{code}已取消，无需担心。如有疑问请联系平台。",
        "[Eldercare] The alarm of {elder} was a false alarm; order {code} is cancelled. Call us with any question.",
    ),
    "family_accepted": (
        "【智慧养老】护理员{caregiver}已接单{code}，预计{eta}分钟到达{elder}身边。",
        "[Eldercare] Caregiver {caregiver} took order {code} and should reach {elder} in about {eta} min.",
    ),
    "family_arrived": (
        "【智慧养老】护理员{caregiver}已到达{elder}身边（工单{code}）。",
        "[Eldercare] Caregiver {caregiver} has reached {elder} (order {code}).",
    ),
    "manager_escalated": (
        "【工单升级】{service}工单{code}（{elder}，{address}）{reason}，请立即协调。",
        "[Escalated] {service} order {code} ({elder}, {address}): {reason}. Please act now.",
    ),
    "device_help_coming": (
        "护理员{caregiver}已出发，约{eta}分钟到达。",
        "Help is coming: {caregiver}, about {eta} min.",
    ),
    "device_help_arrived": ("护理员{caregiver}已到达。", "{caregiver} has arrived."),
}

REASONS: dict[str, tuple[str, str]] = {
    "no_acceptance": ("无人接单", "no caregiver accepted"),
    "no_candidate": ("没有可派的护理员", "no eligible caregiver"),
    "no_arrival": ("接单后未按时到达", "accepted but no arrival in time"),
    "false_alarm": ("告警经核实为误报", "the alarm was found to be a false alarm"),
}


def text(key: str, language: str, **values: Any) -> str:
    """The message ``key`` in ``language`` ('zh' or 'en'), filled with ``values``."""
    zh, en = _TEXTS[key]
    return (en if language == "en" else zh).format(**values)


def service_name(code: str, language: str) -> str:
    zh, en = SERVICE_NAMES.get(code, (code, code))
    return en if language == "en" else zh


def reason(code: str, language: str) -> str:
    zh, en = REASONS.get(code, (code, code))
    return en if language == "en" else zh


def duration(seconds: float, language: str) -> str:
    """'90秒' / '90 s', '15分钟' / '15 min'."""
    if seconds < 120:
        return f"{round(seconds)}秒" if language != "en" else f"{round(seconds)} s"
    minutes = round(seconds / 60)
    return f"{minutes}分钟" if language != "en" else f"{minutes} min"
