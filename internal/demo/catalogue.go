package demo

import "time"

// Product is an item of the demo shop's catalogue. Prices and costs are in
// CNY; USD orders convert them at usdRate.
type Product struct {
	ID         string  `json:"id"`
	SKU        string  `json:"sku"`
	NameZh     string  `json:"name_zh"`
	NameEn     string  `json:"name_en"`
	Category   string  `json:"category"` // bilingual label, as on order lines: "茶叶/Tea"
	CategoryZh string  `json:"category_zh"`
	CategoryEn string  `json:"category_en"`
	Price      float64 `json:"price"`
	UnitCost   float64 `json:"unit_cost"`
}

// usdRate converts catalogue prices for the few customers who pay in USD.
const usdRate = 7.1

type category struct {
	Zh, En, SKU string
	Margin      float64 // gross margin: unit cost = price · (1 − margin)
}

var categories = []category{
	{"茶叶", "Tea", "TEA", 0.55}, {"咖啡", "Coffee", "COF", 0.45}, {"零食", "Snacks", "SNK", 0.35},
	{"酒水", "Beverages", "BEV", 0.22}, {"个护", "Personal care", "PC", 0.5}, {"家居", "Home", "HOM", 0.4},
	{"数码", "Electronics", "ELE", 0.18}, {"礼盒", "Gift boxes", "GFT", 0.45},
}

// item is one catalogue entry before it gets an id. Season, when set, is
// the months [from, to] the item is sold (mooncakes before Mid-Autumn).
type item struct {
	Category int
	Zh, En   string
	Price    float64
	Season   [2]time.Month
}

var catalogue = []item{
	{0, "西湖龙井 明前特级 250g", "West Lake Longjing, pre-Qingming 250g", 688, [2]time.Month{}},
	{0, "安溪铁观音 250g", "Anxi Tieguanyin 250g", 268, [2]time.Month{}},
	{0, "云南普洱熟茶饼 357g", "Yunnan Ripe Pu-erh Cake 357g", 198, [2]time.Month{}},
	{0, "武夷大红袍 200g", "Wuyi Da Hong Pao 200g", 458, [2]time.Month{}},
	{0, "福鼎白茶寿眉 300g", "Fuding White Tea Shou Mei 300g", 158, [2]time.Month{}},
	{0, "茉莉花茶 100g", "Jasmine Green Tea 100g", 48, [2]time.Month{}},
	{0, "正山小种红茶 150g", "Lapsang Souchong 150g", 128, [2]time.Month{}},
	{0, "洞庭碧螺春 125g", "Dongting Biluochun 125g", 238, [2]time.Month{}},
	{0, "六安瓜片 250g", "Lu'an Guapian 250g", 298, [2]time.Month{}},
	{1, "云南小粒咖啡豆 500g", "Yunnan Arabica Beans 500g", 89, [2]time.Month{}},
	{1, "耶加雪菲咖啡豆 250g", "Ethiopia Yirgacheffe Beans 250g", 138, [2]time.Month{}},
	{1, "冷萃咖啡液 12杯装", "Cold Brew Concentrate, 12 servings", 69, [2]time.Month{}},
	{1, "挂耳咖啡 30包", "Drip Bag Coffee, 30 bags", 99, [2]time.Month{}},
	{1, "胶囊咖啡 50粒", "Coffee Capsules, 50 pcs", 179, [2]time.Month{}},
	{1, "速溶黑咖啡 100条", "Instant Black Coffee, 100 sticks", 59, [2]time.Month{}},
	{1, "手冲咖啡套装", "Pour-over Coffee Kit", 329, [2]time.Month{}},
	{2, "每日坚果 30袋", "Daily Mixed Nuts, 30 packs", 129, [2]time.Month{}},
	{2, "猪肉脯 500g", "Pork Jerky 500g", 68, [2]time.Month{}},
	{2, "芒果干 500g", "Dried Mango 500g", 39, [2]time.Month{}},
	{2, "蛋黄酥 12枚", "Salted Egg Yolk Pastry, 12 pcs", 58, [2]time.Month{}},
	{2, "海苔脆 10包", "Crispy Seaweed, 10 packs", 29.9, [2]time.Month{}},
	{2, "手撕面包 1kg", "Hand-torn Bread 1kg", 35, [2]time.Month{}},
	{2, "麻辣牛肉干 250g", "Spicy Beef Jerky 250g", 79, [2]time.Month{}},
	{2, "凤梨酥 20枚", "Pineapple Cakes, 20 pcs", 88, [2]time.Month{}},
	{3, "飞天茅台 53度 500ml", "Kweichow Moutai Feitian 53% 500ml", 2999, [2]time.Month{}},
	{3, "五粮液 52度 500ml", "Wuliangye 52% 500ml", 1099, [2]time.Month{}},
	{3, "青岛啤酒 24听", "Tsingtao Beer, 24 cans", 89, [2]time.Month{}},
	{3, "张裕解百纳干红 750ml", "Changyu Cabernet Dry Red 750ml", 128, [2]time.Month{}},
	{3, "绍兴黄酒 五年陈 500ml", "Shaoxing Rice Wine, 5-year 500ml", 45, [2]time.Month{}},
	{3, "天然矿泉水 24瓶", "Mineral Water, 24 bottles", 36, [2]time.Month{}},
	{3, "椰子水 12瓶", "Coconut Water, 12 bottles", 72, [2]time.Month{}},
	{3, "无糖气泡水 24听", "Sugar-free Sparkling Water, 24 cans", 59, [2]time.Month{}},
	{4, "氨基酸洗面奶", "Amino Acid Facial Cleanser", 89, [2]time.Month{}},
	{4, "护手霜礼盒", "Hand Cream Gift Set", 119, [2]time.Month{}},
	{4, "电动牙刷刷头 4支", "Toothbrush Heads, 4-pack", 69, [2]time.Month{}},
	{4, "无硅油洗发水 750ml", "Silicone-free Shampoo 750ml", 59, [2]time.Month{}},
	{4, "防晒霜 SPF50", "Sunscreen SPF50", 129, [2]time.Month{}},
	{4, "香氛沐浴露 500ml", "Scented Body Wash 500ml", 49, [2]time.Month{}},
	{4, "补水面膜 20片", "Hydrating Sheet Masks, 20 pcs", 99, [2]time.Month{}},
	{5, "陶瓷茶具套装", "Ceramic Tea Set", 399, [2]time.Month{}},
	{5, "香薰蜡烛", "Scented Candle", 89, [2]time.Month{}},
	{5, "纯棉四件套", "Cotton Bedding Set, 4 pieces", 459, [2]time.Month{}},
	{5, "保温杯 500ml", "Insulated Bottle 500ml", 129, [2]time.Month{}},
	{5, "毛巾礼盒", "Towel Gift Set", 79, [2]time.Month{}},
	{5, "收纳箱 3只装", "Storage Boxes, 3-pack", 69, [2]time.Month{}},
	{5, "竹制砧板", "Bamboo Cutting Board", 59, [2]time.Month{}},
	{6, "蓝牙耳机", "Wireless Earbuds", 499, [2]time.Month{}},
	{6, "充电宝 20000mAh", "Power Bank 20000mAh", 149, [2]time.Month{}},
	{6, "智能手环", "Smart Band", 249, [2]time.Month{}},
	{6, "电动牙刷", "Electric Toothbrush", 299, [2]time.Month{}},
	{6, "便携榨汁杯", "Portable Blender", 199, [2]time.Month{}},
	{6, "蓝牙音箱", "Bluetooth Speaker", 349, [2]time.Month{}},
	{6, "智能台灯", "Smart Desk Lamp", 269, [2]time.Month{}},
	{7, "中秋月饼礼盒", "Mid-Autumn Mooncake Gift Box", 298, [2]time.Month{time.August, time.September}},
	{7, "新春年货礼盒", "Spring Festival Gift Hamper", 588, [2]time.Month{time.December, time.February}},
	{7, "端午粽子礼盒", "Dragon Boat Zongzi Gift Box", 168, [2]time.Month{time.May, time.June}},
	{7, "名茶礼盒", "Premium Tea Gift Box", 888, [2]time.Month{}},
	{7, "坚果礼盒", "Nut Gift Box", 198, [2]time.Month{}},
	{7, "企业定制礼盒", "Corporate Custom Gift Box", 1288, [2]time.Month{}},
	{7, "咖啡礼盒", "Coffee Gift Box", 258, [2]time.Month{}},
}

// inSeason reports whether it is sold in month m.
func (it item) inSeason(m time.Month) bool {
	from, to := it.Season[0], it.Season[1]
	switch {
	case from == 0:
		return true
	case from <= to:
		return m >= from && m <= to
	default: // wraps the new year
		return m >= from || m <= to
	}
}

// pairs are things customers buy together, by English name: when the
// first goes on an order, the second joins it with probability p.
var pairs = []struct {
	first, second string
	p             float64
}{
	{"Pour-over Coffee Kit", "Ethiopia Yirgacheffe Beans 250g", 0.7},
	{"Electric Toothbrush", "Toothbrush Heads, 4-pack", 0.6},
	{"Ceramic Tea Set", "West Lake Longjing, pre-Qingming 250g", 0.5},
	{"Tsingtao Beer, 24 cans", "Spicy Beef Jerky 250g", 0.45},
	{"Amino Acid Facial Cleanser", "Hydrating Sheet Masks, 20 pcs", 0.45},
	{"Silicone-free Shampoo 750ml", "Scented Body Wash 500ml", 0.5},
	{"Wireless Earbuds", "Power Bank 20000mAh", 0.4},
	{"Yunnan Arabica Beans 500g", "Drip Bag Coffee, 30 bags", 0.35},
	{"Daily Mixed Nuts, 30 packs", "Dried Mango 500g", 0.35},
	{"Jasmine Green Tea 100g", "Insulated Bottle 500ml", 0.3},
}

// companion is what joins product k on an order (with = -1 for none).
type companion struct {
	with int
	p    float64
}

// companions[k] is product k's companion.
var companions = func() []companion {
	index := map[string]int{}
	for i, it := range catalogue {
		index[it.En] = i
	}
	out := make([]companion, len(catalogue))
	for i := range out {
		out[i].with = -1
	}
	for _, pr := range pairs {
		a, ok1 := index[pr.first]
		b, ok2 := index[pr.second]
		if !ok1 || !ok2 {
			panic("demo: pair names a product not in the catalogue: " + pr.first + " / " + pr.second)
		}
		out[a] = companion{with: b, p: pr.p}
	}
	return out
}()
