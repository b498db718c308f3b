package demo

// hanzi is a Chinese character or word with its toneless pinyin, kept
// together so email addresses never depend on guessing a polyphonic reading
// (曾 as a surname is zeng, not ceng).
type hanzi struct {
	Han, Pinyin string
}

// surnames are common Chinese surnames; surnameWeights follow their rough
// share of the population (王, 李 and 张 about 7% each).
var surnames = []hanzi{
	{"王", "wang"}, {"李", "li"}, {"张", "zhang"}, {"刘", "liu"}, {"陈", "chen"}, {"杨", "yang"}, {"黄", "huang"},
	{"赵", "zhao"}, {"吴", "wu"}, {"周", "zhou"}, {"徐", "xu"}, {"孙", "sun"}, {"马", "ma"}, {"朱", "zhu"},
	{"胡", "hu"}, {"郭", "guo"}, {"何", "he"}, {"林", "lin"}, {"罗", "luo"}, {"高", "gao"}, {"郑", "zheng"},
	{"梁", "liang"}, {"谢", "xie"}, {"宋", "song"}, {"唐", "tang"}, {"许", "xu"}, {"韩", "han"}, {"冯", "feng"},
	{"邓", "deng"}, {"曹", "cao"}, {"彭", "peng"}, {"曾", "zeng"}, {"肖", "xiao"}, {"田", "tian"}, {"董", "dong"},
	{"袁", "yuan"}, {"潘", "pan"}, {"于", "yu"}, {"蒋", "jiang"}, {"蔡", "cai"}, {"余", "yu"}, {"杜", "du"},
	{"叶", "ye"}, {"程", "cheng"}, {"苏", "su"}, {"魏", "wei"}, {"吕", "lv"}, {"丁", "ding"}, {"任", "ren"},
	{"沈", "shen"}, {"姚", "yao"}, {"卢", "lu"}, {"姜", "jiang"}, {"崔", "cui"}, {"钟", "zhong"}, {"谭", "tan"},
	{"陆", "lu"}, {"汪", "wang"}, {"范", "fan"}, {"金", "jin"}, {"石", "shi"}, {"廖", "liao"}, {"贾", "jia"},
	{"夏", "xia"}, {"韦", "wei"}, {"付", "fu"}, {"方", "fang"}, {"白", "bai"}, {"邹", "zou"}, {"孟", "meng"},
	{"熊", "xiong"}, {"秦", "qin"}, {"邱", "qiu"}, {"江", "jiang"}, {"尹", "yin"}, {"薛", "xue"}, {"闫", "yan"},
	{"段", "duan"}, {"雷", "lei"}, {"侯", "hou"}, {"龙", "long"}, {"史", "shi"}, {"陶", "tao"}, {"黎", "li"},
	{"贺", "he"}, {"顾", "gu"}, {"毛", "mao"}, {"郝", "hao"}, {"龚", "gong"}, {"邵", "shao"}, {"万", "wan"},
	{"钱", "qian"}, {"严", "yan"}, {"覃", "qin"}, {"武", "wu"}, {"戴", "dai"}, {"莫", "mo"}, {"孔", "kong"},
	{"向", "xiang"}, {"汤", "tang"}, {"欧阳", "ouyang"}, {"上官", "shangguan"}, {"司马", "sima"},
}

var surnameTable = func() table {
	top := []float64{7.1, 7.0, 6.7, 5.4, 4.5, 3.1, 2.2, 2.0, 2.0, 1.9, 1.7, 1.5, 1.2, 1.1, 1.1, 1.0, 1.0, 0.9, 0.9, 0.9}
	w := make([]float64, len(surnames))
	for i := range w {
		switch {
		case i < len(top):
			w[i] = top[i]
		case i >= len(surnames)-3: // compound surnames are rare
			w[i] = 0.05
		default:
			w[i] = 0.8 - 0.006*float64(i)
		}
	}
	return newTable(w)
}()

// Given-name characters. A single-character given name makes the classic
// two-character name (张伟, 王芳); two characters are common among younger
// people (王子轩, 李欣怡).
var (
	givenMale = []hanzi{
		{"伟", "wei"}, {"强", "qiang"}, {"磊", "lei"}, {"军", "jun"}, {"洋", "yang"}, {"勇", "yong"}, {"杰", "jie"},
		{"涛", "tao"}, {"明", "ming"}, {"超", "chao"}, {"刚", "gang"}, {"平", "ping"}, {"辉", "hui"}, {"鹏", "peng"},
		{"华", "hua"}, {"飞", "fei"}, {"鑫", "xin"}, {"波", "bo"}, {"斌", "bin"}, {"宇", "yu"}, {"浩", "hao"},
		{"凯", "kai"}, {"健", "jian"}, {"俊", "jun"}, {"帆", "fan"}, {"旭", "xu"}, {"宁", "ning"}, {"峰", "feng"},
		{"建", "jian"}, {"志", "zhi"}, {"博", "bo"}, {"晨", "chen"}, {"阳", "yang"}, {"东", "dong"}, {"海", "hai"},
	}
	givenFemale = []hanzi{
		{"芳", "fang"}, {"娜", "na"}, {"敏", "min"}, {"静", "jing"}, {"丽", "li"}, {"艳", "yan"}, {"娟", "juan"},
		{"霞", "xia"}, {"秀", "xiu"}, {"英", "ying"}, {"玲", "ling"}, {"婷", "ting"}, {"雪", "xue"}, {"慧", "hui"},
		{"燕", "yan"}, {"红", "hong"}, {"梅", "mei"}, {"琳", "lin"}, {"颖", "ying"}, {"倩", "qian"}, {"晶", "jing"},
		{"欣", "xin"}, {"怡", "yi"}, {"佳", "jia"}, {"琪", "qi"}, {"悦", "yue"}, {"丹", "dan"}, {"蕾", "lei"},
		{"洁", "jie"}, {"莉", "li"}, {"璐", "lu"},
	}
	givenMaleFirst = []hanzi{
		{"子", "zi"}, {"浩", "hao"}, {"俊", "jun"}, {"宇", "yu"}, {"家", "jia"}, {"志", "zhi"}, {"建", "jian"},
		{"文", "wen"}, {"天", "tian"}, {"明", "ming"}, {"嘉", "jia"}, {"一", "yi"}, {"晨", "chen"}, {"博", "bo"},
		{"泽", "ze"}, {"国", "guo"}, {"永", "yong"}, {"思", "si"},
	}
	givenMaleSecond = []hanzi{
		{"轩", "xuan"}, {"然", "ran"}, {"豪", "hao"}, {"杰", "jie"}, {"涛", "tao"}, {"伟", "wei"}, {"强", "qiang"},
		{"明", "ming"}, {"华", "hua"}, {"辉", "hui"}, {"宇", "yu"}, {"阳", "yang"}, {"睿", "rui"}, {"航", "hang"},
		{"铭", "ming"}, {"林", "lin"}, {"成", "cheng"}, {"远", "yuan"},
	}
	givenFemaleFirst = []hanzi{
		{"雨", "yu"}, {"思", "si"}, {"欣", "xin"}, {"诗", "shi"}, {"梦", "meng"}, {"晓", "xiao"}, {"佳", "jia"},
		{"雅", "ya"}, {"紫", "zi"}, {"婉", "wan"}, {"若", "ruo"}, {"可", "ke"}, {"子", "zi"}, {"美", "mei"},
		{"慧", "hui"}, {"丽", "li"},
	}
	givenFemaleSecond = []hanzi{
		{"涵", "han"}, {"萱", "xuan"}, {"怡", "yi"}, {"琪", "qi"}, {"婷", "ting"}, {"悦", "yue"}, {"彤", "tong"},
		{"妍", "yan"}, {"琳", "lin"}, {"晴", "qing"}, {"欣", "xin"}, {"蕾", "lei"}, {"玲", "ling"}, {"娟", "juan"},
		{"霞", "xia"}, {"文", "wen"},
	}
)

var (
	englishMale = []string{
		"James", "John", "Robert", "Michael", "William", "David", "Richard", "Joseph", "Thomas", "Charles",
		"Daniel", "Matthew", "Anthony", "Mark", "Steven", "Paul", "Andrew", "Joshua", "Kevin", "Brian",
		"George", "Edward", "Ryan", "Jacob", "Oliver", "Harry", "Jack", "Noah", "Liam", "Ethan", "Samuel", "Benjamin",
	}
	englishFemale = []string{
		"Mary", "Patricia", "Jennifer", "Linda", "Elizabeth", "Barbara", "Susan", "Jessica", "Sarah", "Karen",
		"Lisa", "Nancy", "Emily", "Emma", "Olivia", "Sophia", "Amelia", "Charlotte", "Grace", "Hannah",
		"Rachel", "Laura", "Chloe", "Lucy", "Megan", "Rebecca", "Victoria", "Alice", "Zoe", "Natalie",
	}
	englishLast = []string{
		"Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Wilson", "Taylor",
		"Anderson", "Thomas", "Moore", "Martin", "Jackson", "Thompson", "White", "Harris", "Clark", "Lewis",
		"Robinson", "Walker", "Young", "Allen", "King", "Wright", "Scott", "Green", "Baker", "Adams",
		"Nelson", "Hill", "Campbell", "Mitchell", "Roberts", "Carter", "Phillips", "Evans", "Turner", "Parker",
		"Collins", "Edwards", "Stewart", "Morris", "Murphy", "Cook", "Rogers", "Morgan", "Cooper", "Peterson",
		"Bailey", "Reed", "Kelly", "Howard", "Ward", "Cox", "Richardson", "Wood", "Watson", "Brooks",
		"Bennett", "Gray", "Hughes", "Price", "Sanders", "Patel", "Khan", "Lee", "Wong", "Tan", "O'Brien", "Murray",
	}
)

// Organization name parts. A Chinese company name is city + brand + line
// of business + legal form (上海华联超市有限公司); each line of business maps
// to an industry option of the "industry" field.
var (
	orgBrandsZh = []hanzi{
		{"华联", "hualian"}, {"恒通", "hengtong"}, {"鑫源", "xinyuan"}, {"金桥", "jinqiao"}, {"东方", "dongfang"},
		{"新世纪", "xinshiji"}, {"宏达", "hongda"}, {"万家", "wanjia"}, {"佳美", "jiamei"}, {"和顺", "heshun"},
		{"瑞丰", "ruifeng"}, {"嘉禾", "jiahe"}, {"博远", "boyuan"}, {"汇通", "huitong"}, {"天润", "tianrun"},
		{"明珠", "mingzhu"}, {"盛世", "shengshi"}, {"锦华", "jinhua"}, {"福源", "fuyuan"}, {"康达", "kangda"},
		{"海纳", "haina"}, {"云帆", "yunfan"}, {"泰和", "taihe"}, {"百川", "baichuan"}, {"长青", "changqing"},
		{"星河", "xinghe"}, {"志诚", "zhicheng"}, {"润泽", "runze"}, {"景程", "jingcheng"}, {"宏图", "hongtu"},
		{"德信", "dexin"}, {"安达", "anda"}, {"中联", "zhonglian"}, {"新华", "xinhua"}, {"隆盛", "longsheng"},
		{"开元", "kaiyuan"}, {"大成", "dacheng"}, {"致远", "zhiyuan"}, {"同创", "tongchuang"}, {"金穗", "jinsui"},
	}
	orgLinesZh = []orgLine{
		{"超市有限公司", "Markets", "mart", 0, 1.6}, {"便利店连锁有限公司", "Convenience Stores", "cvs", 0, 1.2},
		{"餐饮管理有限公司", "Catering", "food", 1, 1.0}, {"酒店管理有限公司", "Hotels", "hotels", 2, 1.2},
		{"贸易有限公司", "Traders", "trading", 3, 1.8}, {"商贸有限公司", "Trading Co", "trade", 3, 1.4},
		{"科技有限公司", "Tech", "tech", 4, 0.6}, {"网络科技有限公司", "Digital", "net", 4, 0.6},
		{"文化传媒有限公司", "Media", "media", 5, 0.4}, {"教育科技有限公司", "Learning", "edu", 6, 0.4},
		{"医药有限公司", "Health", "pharma", 7, 0.3}, {"物业服务有限公司", "Property Services", "property", 8, 0.4},
		{"茶业有限公司", "Tea House", "tea", 3, 0.6}, {"咖啡有限公司", "Coffee Roasters", "coffee", 1, 0.6},
	}
	orgBrandsEn = []string{
		"Northwind", "Bluewater", "Silverline", "Redwood", "Greenleaf", "Harbour", "Oakridge", "Summit",
		"Brightwater", "Kestrel", "Pinecrest", "Meridian", "Riverside", "Highland", "Lighthouse", "Maple",
		"Stonebridge", "Sterling", "Evergreen", "Lotus", "Jade Garden", "Orchid", "Copper Kettle", "Blue Harbor",
		"Fairview", "Westbrook", "Golden Crane", "Red Lantern", "Crescent", "Tidewater",
	}
)

// orgLine is a line of business: the Chinese and English name parts, a
// latin slug for web domains, the index into industries, and how common it
// is.
type orgLine struct {
	Zh, En, Slug string
	Industry     int
	Weight       float64
}

// industries are the options of the "industry" enum field.
var industries = []string{
	"零售/Retail", "餐饮/Food service", "酒店/Hospitality", "批发分销/Wholesale", "科技/Technology",
	"传媒/Media", "教育/Education", "医疗/Healthcare", "企业服务/Business services",
}

var (
	rolesZh = []string{"采购经理", "采购专员", "总经理", "行政主管", "财务经理", "店长", "市场总监", "人事经理", "董事长", "运营经理"}
	rolesEn = []string{"CEO", "Buyer", "Purchasing Manager", "Office Manager", "Head of Operations", "Finance Director",
		"Store Manager", "Marketing Lead", "HR Manager", "Founder"}
)

// city is where a customer lives, with what its phone numbers look like.
type city struct {
	Name    string  // as stored in the "city" attribute
	Code    string  // short latin code used in domains
	Country string  // ISO 3166 alpha-2
	Area    string  // trunk-less area code (CN landlines, US/UK numbers)
	Weight  float64 // share among the customers of its kind
}

var citiesCN = []city{
	{"上海", "sh", "CN", "21", 16}, {"北京", "bj", "CN", "10", 14}, {"广州", "gz", "CN", "20", 10},
	{"深圳", "sz", "CN", "755", 10}, {"杭州", "hz", "CN", "571", 9}, {"成都", "cd", "CN", "28", 8},
	{"南京", "nj", "CN", "25", 6}, {"武汉", "wh", "CN", "27", 6}, {"西安", "xa", "CN", "29", 5},
	{"苏州", "suz", "CN", "512", 5}, {"重庆", "cq", "CN", "23", 4}, {"天津", "tj", "CN", "22", 3},
	{"长沙", "cs", "CN", "731", 2}, {"青岛", "qd", "CN", "532", 2},
}

var citiesAbroad = []city{
	{"London", "ldn", "GB", "20", 20}, {"Manchester", "mcr", "GB", "161", 6}, {"New York", "nyc", "US", "212", 16},
	{"San Francisco", "sf", "US", "415", 10}, {"Los Angeles", "la", "US", "213", 6}, {"Toronto", "to", "CA", "416", 6},
	{"Singapore", "sg", "SG", "", 22}, {"Sydney", "syd", "AU", "", 8},
}

var (
	cityCNTable     = newTable(weightsOf(citiesCN))
	cityAbroadTable = newTable(weightsOf(citiesAbroad))
)

func weightsOf(cs []city) []float64 {
	w := make([]float64, len(cs))
	for i, c := range cs {
		w[i] = c.Weight
	}
	return w
}
