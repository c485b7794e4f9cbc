"""Demo 图文 and usage guides: ``demo_articles()`` creates and publishes them, once per slug;
``demo_article_covers()`` (``powerdesk demo`` runs it) gives those without a cover a generated
one, so the demo's articles broadcasts and news replies have their images.

Running either again changes nothing (an article whose slug exists is left as it is, edits
included; a cover is only added where there is none).
"""

from __future__ import annotations

import io

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction

from powerdesk.content.choices import ArticleKind
from powerdesk.content.models import Article, ArticleCategory
from powerdesk.content.services import article_create, article_publish, article_update, category_create
from powerdesk.events.choices import Channel

CATEGORIES = [
    ("payment", "缴费服务", 10),
    ("business", "用电业务", 20),
    ("outage", "停电与报修", 30),
    ("tariff", "电价政策", 40),
    ("safety", "安全提示", 50),
]

GUIDE = ArticleKind.USAGE_GUIDE
NEWS = ArticleKind.ARTICLE

# (slug, category slug, kind, title, summary, body)
ARTICLES: list[tuple[str, str, str, str, str, str]] = [
    (
        "payment-methods",
        "payment",
        GUIDE,
        "电费缴纳方式",
        "缴费渠道一览：微信、支付宝、网上国网、银行代扣和营业厅缴费，选一种最方便的缴费方式。",
        "## 线上缴费\n"
        "- 微信公众号：进入“电费查询”，选择户号后点击“立即缴费”，缴费成功后余额即时更新。\n"
        "- 支付宝生活号：搜索本公司生活号，输入户号即可缴费。\n"
        "- 网上国网 App：绑定户号后可查询账单并在线缴费。\n\n"
        "## 线下缴费\n"
        "- 供电营业厅柜台缴费，支持现金、银行卡和扫码。\n"
        "- 银行代扣：签约后每月自动从银行卡扣缴电费，无需记缴费日。\n\n"
        "缴费时请核对户号和户名。缴费后如余额未变化，请保留缴费凭证并拨打 95598。",
    ),
    (
        "bind-account",
        "business",
        GUIDE,
        "如何绑定户号",
        "绑定户号后即可在公众号查询电费、接收停电通知和缴费提醒。",
        "## 准备\n户号为 10 位数字，可在电费通知单、电费发票或营业厅查询。\n\n"
        "## 步骤\n1. 进入公众号菜单“我的服务 → 绑定户号”。\n"
        "2. 输入户号，选择验证方式：预留手机号短信验证，或户主姓名与身份证号实名核验。\n"
        "3. 验证通过后绑定成功，一个微信最多可绑定 5 个户号。\n\n"
        "家属可以“家庭成员”身份绑定；户主过户后原有绑定将自动解除。",
    ),
    (
        "tou-tariff",
        "tariff",
        GUIDE,
        "峰谷电价说明",
        "峰谷电价按用电时段分别计价：高峰时段电价较高，低谷时段电价较低。",
        "## 时段划分\n- 高峰时段：8:00—22:00\n- 低谷时段：22:00—次日 8:00\n\n"
        "## 谁适合执行峰谷电价\n晚间用电多（如电动汽车充电、电采暖、热水器夜间加热）的家庭，"
        "把用电移到低谷时段可以明显节省电费。\n\n"
        "## 如何申请\n居民用户可在营业厅或公众号申请执行峰谷电价，次月抄表周期起生效；"
        "需安装具备分时计量功能的智能电表。",
    ),
    (
        "tiered-tariff",
        "tariff",
        GUIDE,
        "阶梯电价怎么算",
        "居民阶梯电价按年度累计用电量分三档计费，用得越多单价越高。",
        "## 三档电量\n- 第一档：年用电量 2760 千瓦时及以内，执行基础电价。\n"
        "- 第二档：2761—4800 千瓦时，每千瓦时加价 0.05 元。\n"
        "- 第三档：超过 4800 千瓦时，每千瓦时加价 0.30 元。\n\n"
        "## 计算示例\n某户全年用电 5000 千瓦时：2760 千瓦时按基础电价，2040 千瓦时按第二档，"
        "200 千瓦时按第三档，三部分相加即为全年电费。\n\n"
        "家庭人口 5 人及以上可申请“一户多人口”，提高各档电量基数。",
    ),
    (
        "outage-lookup",
        "outage",
        GUIDE,
        "停电查询",
        "查询所在地区的计划停电和故障停电信息，提前做好准备。",
        "## 查询方法\n- 公众号菜单“停电信息”，输入户号或选择所在区域即可查看。\n"
        "- 绑定户号的用户会在计划停电前收到通知。\n\n"
        "## 计划停电\n因设备检修、线路改造安排的停电，一般提前 7 天公告停电时间和范围。\n\n"
        "## 故障停电\n如果查询不到停电信息而家中无电，请先检查家中漏电保护器是否跳闸，"
        "再通过故障报修反映。",
    ),
    (
        "fault-repair",
        "outage",
        GUIDE,
        "故障报修流程",
        "家中突然停电或发现线路隐患，可通过公众号或 95598 故障报修，抢修人员及时上门。",
        "## 报修前先自查\n1. 看邻居家是否有电，判断是否为片区停电。\n"
        "2. 检查电表箱内开关和家中漏电保护器是否跳闸。\n\n"
        "## 报修渠道\n- 公众号菜单“我的服务 → 故障报修”，填写地址并上传照片。\n"
        "- 拨打 95598 供电服务热线。\n\n"
        "## 处理时限\n城区抢修人员一般 45 分钟内到达现场，农村地区 90 分钟内到达。"
        "表后线路（电表以后的户内线路）属于用户资产，供电公司可提供有偿维修。",
    ),
    (
        "e-invoice",
        "payment",
        GUIDE,
        "电子发票",
        "电费电子发票与纸质发票具有同等法律效力，可在线开具、下载和推送至邮箱。",
        "## 开具方式\n进入“电费查询 → 电子发票”，选择月份即可开具电子发票，"
        "支持下载 PDF 或发送到邮箱。\n\n"
        "## 注意事项\n- 预存电费时开具的是收据，实际结算后方可开具电费发票。\n"
        "- 单位用户如需增值税专用发票，请先在营业厅登记开票信息。",
    ),
    (
        "prepaid-balance",
        "payment",
        GUIDE,
        "预付费与余额提醒",
        "预付费（费控）用户先充值后用电，余额不足时会收到短信和公众号提醒。",
        "## 什么是预付费\n智能电表按每日用电量测算电费并从预存余额中扣减，"
        "余额不足时及时充值即可正常用电。\n\n"
        "## 余额提醒\n- 可用余额低于提醒金额（默认 20 元）时发送提醒。\n"
        "- 余额耗尽后经过宽限期将远程停电，充值到账后自动复电。\n\n"
        "可在公众号“我的服务 → 提醒设置”中修改提醒金额。",
    ),
    (
        "fraud-warning",
        "safety",
        NEWS,
        "防范电费诈骗",
        "警惕冒充供电公司的短信和电话：供电公司不会索要验证码，也不会要求转账到个人账户。",
        "近期有不法分子冒充供电公司工作人员，以“欠费即将停电”“电费补贴”“电表更换收费”等名义"
        "诱导转账或索取短信验证码。\n\n"
        "## 请记住\n- 官方缴费渠道只有营业厅、公众号、网上国网和签约银行。\n"
        "- 供电公司不会通过个人账户收取电费。\n"
        "- 任何人索要验证码都不要告诉对方。\n\n"
        "如有疑问请拨打 95598 核实。",
    ),
    (
        "new-connection",
        "business",
        GUIDE,
        "新装报装指南",
        "新建住房、商铺需要用电时，可线上办理用电报装，全程不超过 15 个工作日。",
        "## 居民新装\n准备身份证和房屋产权证明，在公众号“我的服务 → 用电报装”提交申请。\n\n"
        "## 办理流程\n1. 提交申请。\n2. 供电所现场勘查并答复供电方案。\n"
        "3. 装表接电。\n\n"
        "低压居民用户报装无需缴纳任何费用。",
    ),
    (
        "ownership-transfer",
        "business",
        GUIDE,
        "过户办理",
        "房屋买卖或继承后，请及时办理电费过户，避免电费纠纷。",
        "## 所需材料\n- 新户主身份证。\n- 不动产权证书或购房合同。\n\n"
        "## 办理方式\n营业厅柜台办理，或在公众号提交材料在线办理。"
        "过户前请结清原户主的电费；过户后原有户号绑定将解除，新户主需重新绑定户号。",
    ),
    (
        "capacity-change",
        "business",
        GUIDE,
        "增容与减容",
        "用电设备增加或减少时，可申请增容或减容，调整合同容量。",
        "## 增容\n家中新增空调、充电桩等大功率电器，现有容量不够用时申请增容；"
        "供电公司现场勘查后更换电表或线路。\n\n"
        "## 减容\n企业用户设备停用时可申请减容，减容期间按减少后的容量计收基本电费。",
    ),
    (
        "auto-debit",
        "payment",
        GUIDE,
        "电费代扣签约",
        "签约银行代扣后每月自动扣缴电费，不再担心忘记缴费产生违约金。",
        "## 签约方式\n- 携带身份证和银行卡到营业厅签订代扣协议。\n"
        "- 部分银行可通过网上银行签约。\n\n"
        "## 注意\n请保证扣款日银行卡余额充足；扣款失败时会短信通知，请及时通过其他渠道缴纳。",
    ),
    (
        "smart-meter",
        "business",
        GUIDE,
        "智能电表怎么看",
        "智能电表屏幕轮流显示当前电量、剩余金额和时段电量，教你看懂每一屏。",
        "## 常见显示\n- 当前正向有功总电量：累计用电量（千瓦时）。\n"
        "- 峰、谷电量：执行峰谷电价的用户分时段累计电量。\n"
        "- 剩余金额：预付费用户的可用余额。\n\n"
        "电表由供电公司统一检定安装，如对计量准确性有疑问可申请校验。",
    ),
    (
        "late-fee",
        "tariff",
        GUIDE,
        "电费违约金说明",
        "逾期未交清电费将按日加收违约金，居民用户每日按欠费金额的千分之一计算。",
        "## 计算方法\n- 居民用户：每日按欠费金额的 1‰ 计算。\n"
        "- 其他用户：当年欠费部分每日 2‰，跨年欠费部分每日 3‰。\n\n"
        "违约金从逾期之日起计算至交纳日止。建议签约代扣或开启余额提醒，避免逾期。",
    ),
    (
        "summer-safety",
        "safety",
        NEWS,
        "夏季安全用电提示",
        "高温天气空调负荷大，注意线路过载，远离变压器和电线。",
        "## 家庭用电\n- 大功率电器不要共用一个插座。\n- 空调温度建议设置在 26℃ 及以上。\n\n"
        "## 户外安全\n- 雷雨天气远离电线杆、变压器和台区配电箱。\n"
        "- 发现电线断落，请远离并拨打 95598。",
    ),
]


@transaction.atomic
def demo_articles() -> list[Article]:
    """Create the demo categories and published articles that do not exist yet (by slug)."""
    categories = {}
    for slug, name, order in CATEGORIES:
        category = ArticleCategory.objects.filter(slug=slug).first()
        categories[slug] = category or category_create(name=name, slug=slug, order=order)
    existing = set(
        Article.objects.filter(slug__in=[row[0] for row in ARTICLES]).values_list("slug", flat=True)
    )
    created = []
    for slug, category_slug, kind, title, summary, body in ARTICLES:
        if slug in existing:
            continue
        article = article_create(
            title=title,
            summary=summary,
            body=body,
            category=categories[category_slug],
            kind=kind,
            slug=slug,
            channel=Channel.SYSTEM,
        )
        created.append(article_publish(article=article, channel=Channel.SYSTEM))
    return created


# A cover per category colour; WeChat shows article covers at 2.35:1 (900 × 383).
COVER_SIZE = (900, 383)
COVER_COLOURS = {
    "payment": (7, 130, 96),
    "business": (24, 96, 168),
    "outage": (200, 110, 20),
    "tariff": (110, 70, 160),
    "safety": (190, 40, 40),
}


def demo_cover_png(category_slug: str) -> bytes:
    """A plain PNG cover: the category's colour, a lighter band and a lightning bolt (no text,
    so no font is needed)."""
    from PIL import Image, ImageDraw

    colour = COVER_COLOURS.get(category_slug, (60, 60, 60))
    image = Image.new("RGB", COVER_SIZE, colour)
    draw = ImageDraw.Draw(image)
    lighter = tuple(min(255, channel + 60) for channel in colour)
    draw.rectangle((0, 290, COVER_SIZE[0], COVER_SIZE[1]), fill=lighter)
    draw.polygon([(470, 40), (380, 200), (450, 200), (410, 340), (540, 160), (470, 160), (520, 40)], fill="white")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def demo_article_covers() -> int:
    """Give each demo article that has no cover a generated one; how many got one."""
    added = 0
    for article in Article.objects.filter(slug__in=[row[0] for row in ARTICLES]).select_related("category"):
        if article.cover:
            continue
        category_slug = article.category.slug if article.category else ""
        article_update(
            article=article,
            title=article.title,
            body=article.body,
            summary=article.summary,
            category=article.category,
            kind=article.kind,
            slug=article.slug,
            cover=SimpleUploadedFile(f"{article.slug}.png", demo_cover_png(category_slug), content_type="image/png"),
            channel=Channel.SYSTEM,
        )
        added += 1
    return added
