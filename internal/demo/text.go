package demo

// Interaction summaries by kind, in Chinese and English. {p} is a product
// the customer bought (or might buy), {c} its category.
var summariesZh = map[string][]string{
	"call": {
		"电话回访，客户对新品{c}感兴趣", "电话确认{p}的发货时间", "客户来电咨询{p}的价格和库存",
		"电话回访，客户对上次购买的{p}很满意", "电话推荐{c}新品，客户表示考虑一下", "未接通，已发短信，稍后再联系",
		"电话沟通下季度采购需求", "客户来电修改收货地址",
	},
	"meeting": {
		"拜访客户总部，讨论年度采购计划", "与采购经理会面，洽谈{c}批量价格", "季度业务回顾，客户希望增加{c}品类",
		"视频会议，介绍节日礼盒方案", "与客户财务对账，确认未结款项", "产品演示，客户试用了{p}",
	},
	"visit": {
		"客户到店选购{c}，试饮后购买了{p}", "上门拜访，送去{p}样品", "客户到门店咨询{p}", "客户带朋友到店，介绍了{c}系列",
		"门店会员日到店，领取了生日礼",
	},
	"email": {
		"发送{c}新品目录和报价单", "邮件确认订单与发票信息", "发送节日礼盒方案", "邮件回复客户关于{p}的成分问题",
		"发送月度对账单",
	},
	"message": {
		"微信沟通{p}的冲泡方法", "微信发送满减优惠券，客户已领取", "客户微信询问{p}是否有货", "微信推送会员活动，客户回复感兴趣",
		"客户微信发来好评截图", "微信提醒客户优惠券即将过期",
	},
	"service": {
		"客户反映{p}包装破损，已安排补发", "客户咨询{p}的保修政策", "售后：{p}有质量问题，已登记处理",
		"客户投诉快递延误，已协调物流", "客户申请换货：{p}，已处理", "客户咨询发票开具，已补开",
	},
}

var summariesEn = map[string][]string{
	"call": {
		"Follow-up call; interested in the new {c} range.", "Called to confirm the shipping date of {p}.",
		"Customer called about the price and stock of {p}.", "Follow-up call; very happy with the {p}.",
		"Pitched new {c} products; will think about it.", "No answer; left a voicemail.",
		"Call about next quarter's purchasing needs.", "Customer called to change the delivery address.",
	},
	"meeting": {
		"Met at their office to discuss the annual purchasing plan.", "Met the buyer to negotiate volume pricing on {c}.",
		"Quarterly business review; they want to add {c}.", "Video call to present the holiday gift box options.",
		"Reconciled open invoices with their finance team.", "Product demo; they tried the {p}.",
	},
	"visit": {
		"Came to the shop, tasted and bought the {p}.", "Visited with samples of {p}.", "Dropped by the shop to ask about {p}.",
		"Brought a friend to the shop; showed them the {c} range.",
	},
	"email": {
		"Sent the new {c} catalogue and price list.", "Emailed to confirm order and invoice details.",
		"Sent the holiday gift box proposal.", "Answered a question about the ingredients of {p}.", "Sent the monthly statement.",
	},
	"message": {
		"Messaged brewing tips for the {p}.", "Sent a discount voucher; customer claimed it.",
		"Customer asked whether {p} is in stock.", "Shared the member event; customer replied interested.",
		"Customer sent a thank-you message and a photo.", "Reminded the customer that a voucher expires soon.",
	},
	"service": {
		"Reported damaged packaging on {p}; replacement sent.", "Asked about the warranty for {p}.",
		"Quality issue with {p}; logged and being handled.", "Complained about a late delivery; chased the courier.",
		"Requested an exchange of {p}; done.", "Asked for an invoice copy; sent.",
	},
}

const (
	refundSummaryZh = "客户申请退款：{p}，已办理退款"
	refundSummaryEn = "Refund requested for {p}; refunded."
)

// Notes a user might write about a customer. orgNotes apply to
// organizations only.
var (
	notesZh = []string{
		"喜欢{p}，每次都买两份", "对价格敏感，通常等促销再下单", "希望周末送货，工作日不在家", "老客户介绍来的，注意维护关系",
		"上次{p}物流延误，客户有些不满，已致歉", "对坚果过敏，推荐时避开坚果类", "偏好微信沟通，不要打电话", "生日在下个月，可以寄张贺卡",
		"喜欢尝试新品，{c}上新时通知客户", "每年春节前都会给家人买礼盒",
	}
	notesEn = []string{
		"Loves the {p}; usually orders two at a time.", "Price-sensitive; waits for promotions.", "Prefers weekend delivery.",
		"Referred by an existing customer; look after this one.", "Delivery of {p} was late last time; we apologised.",
		"Allergic to nuts; avoid nut products in recommendations.", "Prefers email over phone calls.",
		"Likes to try new things; tell them when new {c} products arrive.", "Buys gift boxes for family every December.",
	}
	orgNotesZh = []string{
		"逢年过节会批量采购礼盒送客户", "付款周期30天，月底对账", "决策人是采购经理，老板只看总价", "公司年会需要定制礼盒，预计下季度下单",
		"开票信息已更新，注意使用新税号", "对{c}需求稳定，可以谈年度框架协议",
	}
	orgNotesEn = []string{
		"Buys gift boxes in bulk before holidays for their clients.", "Net 30 payment terms; reconcile at month end.",
		"The buyer decides; the owner only looks at the total.", "Planning a custom gift order for their year-end party.",
		"Steady demand for {c}; propose an annual agreement.",
	}
)
