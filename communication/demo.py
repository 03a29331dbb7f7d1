"""Demo content of 通知公告 / 下载区 / 留言板 / 常见问题, built through the actions (no mail is recorded).

The downloads are the assessment package's own documents: passages of the seed texts shipped in
communication/demo_docs/ (实施方案, 填报工作具体要求, 指标说明, 操作手册) and the forms (表1–表4) generated from
the task's catalog. The questions are those of the manual's 常见问题汇总 (第三部分 三).
"""

from __future__ import annotations

from pathlib import Path

from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.models import Role, UnitLevel, User
from reporting.models import Task

from . import actions
from .catalog import definitions
from .models import FaqEntry, Notice, NoticeKind, QuestionCategory
from .wordfile import DOCX_TYPE, as_docx

DOCS = Path(__file__).resolve().parent / "demo_docs"
DOC_TITLES = {
    "01_评估实施方案.md": "分级诊疗制度建设第三方评估实施方案",
    "02_填报工作具体要求.md": "填报工作具体要求",
    "03_部分评估考核指标说明.md": "部分评估考核指标说明（指标说明）",
    "04_信息平台操作手册.md": "分级诊疗制度建设信息平台操作手册",
}
NOTICE_TITLE = "关于开展2019年分级诊疗制度第三方评估信息填报工作的通知"

# (asker username, category, title, body, responder username, answer, form, field, promote)
QUESTIONS = [
    ("3701001", QuestionCategory.ACCOUNT, "牵头医院往年没有填报过，如何获取账号？",
     "我院今年首次作为城市医联体牵头医院参加评估，没有登录账号。", "370100-sh",
     "如果牵头医院登录账号是之前就有的，则用以前的账号密码；若牵头医院往年没有填报过，请联系上级主管单位申请账号和密码。",
     "", "", True),
    ("3701002", QuestionCategory.SYSTEM, "只读模式下无法填写，界面上部没有菜单栏",
     "打开报表后所有输入框都是灰色的，无法填写。", "370100-sh",
     "请检查报表状态：已上报、审核通过的报表不能修改，如需修改请联系上级审核单位驳回；"
     "已过填报截止时间的报表已锁定，如需补报请联系上级单位延期。分辨率不足时可用浏览器缩放（Ctrl+鼠标滚轮）调整。",
     "", "", True),
    ("3701001", QuestionCategory.SYSTEM, "合理性审核后如何填写说明？",
     "合理性审核提示数据异常，但实际数据就是如此。", "370100-sh",
     "合理性审核为核实性审核，实际数据就是如此无需修改，在提示下方填写说明即可；清空说明即删除。",
     "", "", True),
    ("3702001", QuestionCategory.INDICATOR, "门诊总诊疗人次数是否包含健康体检人次？",
     "医院年报中的门诊人次与体检人次分开统计，填报时是否需要合并？", "100000-sh",
     "门诊总诊疗人次数按卫生统计口径填报，不包含健康体检人次；未统计的填“--”。",
     "t3", "outpatient_visits", True),
    ("5120001", QuestionCategory.INDICATOR, "隐藏的指标需要填写吗？", "有些指标在页面上不显示。", "100000-sh",
     "隐藏的指标不需要填写。在系统中填报时，点击指标旁的“说明”可查看该指标的填报说明。", "", "", False),
    ("3701001-2", QuestionCategory.SYSTEM, "上报后发现数据有误怎么办？", "已经点了上报，发现一个数填错了。", "", "",
     "", "", False),
]


def forms_document(task: Task) -> str:
    """考核指标框架 (表1–表4) as text, from the task's catalog: every field with its unit and 说明."""
    lines = ["# 考核指标框架（表1—表4）", "", f"任务：{task.name}", ""]
    for code, d in sorted(definitions(task).items()):
        lines += [f"## {d.get('title', code)}", "", f"填报单位：{d.get('filled_by', '')}", ""]
        section: list = []
        for f in d.get("fields", []):
            if (f.get("section") or []) != section:
                section = f.get("section") or []
                lines += ["", "### " + " / ".join(section), ""]
            unit = f"（{f['unit']}）" if f.get("unit") else ""
            optional = "【选填】" if f.get("optional") else ""
            lines.append(f"- {f.get('label', f['code'])}{unit}{optional}")
            if f.get("help"):
                lines.append(f"  说明：{f['help']}")
        lines.append("")
    return "\n".join(lines) + "\n"


def _user(username: str) -> User | None:
    return User.objects.filter(username=username).select_related("unit").first()


def _publisher(level: str) -> User | None:
    return User.objects.filter(role=Role.REVIEWER, unit__level=level).select_related("unit").order_by("username").first()


def seed(task: Task) -> None:
    """Publish the demo notices, downloads and questions once (a second run changes nothing)."""
    if Notice.objects.filter(title=NOTICE_TITLE).exists():
        return
    nation = _publisher(UnitLevel.NATION)
    if nation is None:
        return
    with actions.muted():
        requirements = (DOCS / "02_填报工作具体要求.md").read_text(encoding="utf-8")
        actions.notice_publish(acting_user=nation, title=NOTICE_TITLE, task=task, pinned=True, send_mail=False,
                               body=requirements.split("\n", 4)[-1][:4000])
        documents = [(title, name, (DOCS / name).read_text(encoding="utf-8")) for name, title in DOC_TITLES.items()]
        documents.insert(2, ("考核指标框架（表1—表4）", "05_考核指标框架.md", forms_document(task)))
        for title, name, text in documents:
            files = [SimpleUploadedFile(name.replace(".md", ".docx"), as_docx(text), content_type=DOCX_TYPE)]
            summary = "\n\n".join(p for p in text.split("\n\n")[2:4])
            actions.notice_publish(acting_user=nation, title=title, body=f"{summary}\n\n全文见附件。",
                                   kind=NoticeKind.DOWNLOAD, task=task, send_mail=False, files=files)
        province = _publisher(UnitLevel.PROVINCE)
        if province is not None:
            actions.notice_publish(acting_user=province, title=f"{province.unit.name}关于按时完成填报的提醒",
                                   body="请各市、各医联体牵头医院于截止时间前完成填报并上报，逾期报表将被锁定。",
                                   task=task, send_mail=False,
                                   levels=[UnitLevel.CITY, UnitLevel.URBAN_ALLIANCE, UnitLevel.COUNTY_ALLIANCE])
        admin = _user("admin") or nation
        for asker, category, title, body, responder, answer, form, field, promote in QUESTIONS:
            user, answering = _user(asker), _user(responder) if responder else None
            if user is None or user.unit_id is None:
                continue
            q = actions.question_ask(acting_user=user, category=category, title=title, body=body, task=task,
                                     form_code=form, field_code=field)
            if answering is None:
                continue
            actions.question_transition(acting_user=answering, question_id=q.pk, action="answer", text=answer)
            if promote and not FaqEntry.objects.filter(source=q).exists():
                actions.faq_promote(acting_user=admin, question_id=q.pk)

