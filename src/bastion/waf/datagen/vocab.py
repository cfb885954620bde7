"""Shared vocabularies for realistic benign values (names, places, products, prose pieces)."""

# ruff: noqa: E501

from __future__ import annotations

from bastion.waf.datagen.sample import words

FIRST_NAMES = words(
    """
    James Mary John Patricia Robert Jennifer Michael Linda William Elizabeth David Barbara Richard
    Susan Joseph Jessica Thomas Sarah Charles Karen Emma Olivia Noah Liam Sophia Mia Lucas Ethan
    Ava Isabella Mateo Santiago Valentina Camila Sofía José María Lucía Javier Alejandro Carmen
    Pilar Jürgen Günther Uwe Katrin Sören Léa Chloé Élodie François Zoë Noël Anaïs Céline Hélène
    Giulia Francesco Matteo Chiara Alessandro Siobhan Niamh Seán Aoife Ciarán Oisín Pádraig
    Mohammed Fatima Ahmed Aisha Omar Yusuf Layla Hassan Wei Fang Jing Hiroshi Yuki Haruto Sakura
    Min-jun Seo-yeon Ji-ho Priya Rahul Ananya Arjun Deepika Olga Dmitri Natasha Sergei Ivan Agnieszka
    Krzysztof Łukasz Zoltán Björn Åsa Søren Ingrid Kwame Amara Chidi Thandiwe Tomás João Gonçalo
    Ngozi Nguyễn Thảo Anh Kateřina Jiří Ömer Ayşe Çağrı Mei Xiao Dang Lars Mads Freya
    """
)
LAST_NAMES = words(
    """
    Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez Lopez
    Gonzalez Wilson Anderson Thomas Taylor Moore Jackson Martin Lee Perez Thompson White Harris
    O'Brien O'Connor O'Neill O'Reilly O'Sullivan O'Malley D'Angelo D'Souza D'Amico D'Arcy
    McDonald MacLeod Fitzgerald Müller Schmidt Schneider Fischer Weber Meyer Wagner Becker Hoffmann
    García Fernández González Rodríguez López Martínez Sánchez Pérez Gómez Martín Jiménez Ruiz
    Dubois Durand Lefèvre Moreau Laurent Lefebvre Rossi Russo Ferrari Esposito Bianchi Romano
    Nakamura Tanaka Suzuki Watanabe Kim Park Choi Chen Wang Li Zhang Liu Singh Patel Kumar Sharma
    Ivanov Petrov Nowak Kowalski Wiśniewski Andersson Johansson Nielsen Hansen Okafor Mensah
    Van der Berg De Vries Van Dijk Al-Hassan El-Amin Ben-David St. John Smith-Jones Lloyd-Webber
    Nguyễn Trần Yılmaz Kaya Öztürk Novák Dvořák Silva Santos Oliveira Pereira Costa
    """
)
CITIES = (
    "New York", "Los Angeles", "San Francisco", "Chicago", "London", "Paris", "Berlin", "Madrid",
    "Barcelona", "Rome", "Milan", "Amsterdam", "Dublin", "Zürich", "München", "Köln", "Göteborg",
    "Kraków", "Łódź", "São Paulo", "Rio de Janeiro", "Buenos Aires", "Ciudad de México", "Bogotá",
    "Tokyo", "東京", "Osaka", "Seoul", "서울", "Beijing", "北京", "Shanghai", "上海", "Mumbai",
    "Bengaluru", "Delhi", "Москва", "Санкт-Петербург", "Kyiv", "Istanbul", "Dubai", "القاهرة",
    "Cairo", "Lagos", "Nairobi", "Cape Town", "Sydney", "Melbourne", "Auckland", "Toronto",
    "Montréal", "Québec", "Vancouver", "St. John's", "Coeur d'Alene", "Martha's Vineyard",
    "L'Aquila", "Val-d'Or", "Tel Aviv", "Hà Nội", "Reykjavík", "Torremocha de Jiloca",
)  # fmt: skip
STREETS = (
    "Main St", "Oak Ave", "Maple Drive", "Elm Street", "Park Lane", "High Street", "Church Road",
    "King's Road", "Queen's Gate", "St. Mary's Place", "O'Connell Street", "Rue de Rivoli",
    "Rue de l'Église", "Avenue des Champs-Élysées", "Calle Mayor", "Calle de Alcalá",
    "Paseo de la Castellana", "Hauptstraße", "Bahnhofstraße", "Schillerstr.", "Via Roma",
    "Via dell'Indipendenza", "Rua Augusta", "Broadway", "5th Avenue", "Sunset Blvd",
    "Amphitheatre Pkwy", "Infinite Loop", "Abbey Road", "Baker Street", "Plaza Mayor",
)  # fmt: skip
COUNTRIES = (
    "United States", "USA", "US", "United Kingdom", "UK", "GB", "Germany", "DE", "France", "FR",
    "España", "Spain", "Italia", "Ireland", "Côte d'Ivoire", "Nederland", "Österreich", "Schweiz",
    "日本", "Japan", "Brasil", "México", "Canada", "Australia", "India", "Россия", "Türkiye",
)  # fmt: skip
PRODUCTS = (
    "running shoes", "laptop", "wireless headphones", "coffee maker", "t-shirt", "jeans", "backpack",
    "smartphone case", "usb-c cable", "4k monitor", "mechanical keyboard", "gaming mouse", "desk lamp",
    "yoga mat", "water bottle", "sunglasses", "winter jacket", "rain boots", "dress", "sneakers",
    "office chair", "standing desk", "air fryer", "blender", "vacuum cleaner", "baby stroller",
    "dog food", "cat litter", "phone charger", "hdmi cable", "sd card 128gb", "led bulbs",
    "garden hose", "tent", "sleeping bag", "bike helmet", "tennis racket", "golf balls", "watch",
    "perfume", "lipstick", "shampoo", "moisturizer", "vitamins", "protein powder", "tea kettle",
    "frying pan", "knife set", "bed sheets", "pillow", "duvet cover", "curtains", "rug", "sofa",
    "bookshelf", "picture frame", "board game", "lego set", "puzzle 1000 pieces", "novel", "cookbook",
)  # fmt: skip
BRANDS = (
    "Nike", "Adidas", "Apple", "Samsung", "Sony", "Levi's", "Ben & Jerry's", "AT&T", "H&M",
    "Dr. Martens", "Procter & Gamble", "Johnson & Johnson", "Barnes & Noble", "Macy's", "McDonald's",
    "Kellogg's", "L'Oréal", "Marks & Spencer", "Dolce & Gabbana", "Abercrombie & Fitch",
    "Trader Joe's", "Dunkin'", "Lowe's", "Kohl's", "Toys\"R\"Us", "Yahoo!", "Bose", "Dell", "HP",
    "Lenovo", "Asus", "Logitech", "IKEA", "Zara", "Uniqlo", "Patagonia", "The North Face",
    "Muji", "Nintendo", "Xbox", "PlayStation", "Canon", "Nikon", "GoPro", "Dyson", "Philips",
)  # fmt: skip
ADJECTIVES = words(
    """
    cheap best new used red blue black white small large waterproof wireless organic vegan
    vintage leather cotton lightweight portable durable affordable premium modern classic
    slim comfortable quiet fast professional mini compact refurbished discounted handmade
    """
)
COLORS = words("red blue green black white grey navy beige pink purple orange yellow brown teal")
SIZES = ("XS", "S", "M", "L", "XL", "XXL", "10", "10.5", "42", "EU 43", "UK 9", "32x34", "one size")
TOPICS = words(
    """
    database backup migration invoice refund shipping password account login subscription order
    delivery payment report dashboard export import schedule meeting deadline budget release
    deployment server cluster table column query index script command terminal permission
    """
)
WORDS_EN = words(
    """
    the a an and or but if then when where while with without for from to into onto over under
    about after before between during through across against among around near since until
    this that these those my your our their his her its we you they it is are was were be been
    have has had do does did can could will would should may might must shall not no yes very
    really just also only even still already again always never often sometimes usually maybe
    good great bad new old first last next other same different important possible available
    order account item price delivery time day week month year people customer service team
    product page website email phone number address password problem question answer issue help
    thanks please sorry hello hi dear regards best kind update change check send receive pay buy
    """
)
SPANISH = (
    "hola", "gracias", "por favor", "buenos días", "dirección de envío", "calle", "número",
    "código postal", "contraseña", "teléfono", "correo electrónico", "pedido", "devolución",
    "¿dónde está mi pedido?", "¡muy bueno!", "señor", "año", "niño", "mañana", "pequeño",
)  # fmt: skip
OTHER_LANG = (
    "Wie kann ich mein Passwort ändern?", "Où est ma commande ?", "C'est très bien, merci !",
    "J'ai oublié mon mot de passe", "L'article n'est pas arrivé", "Aujourd'hui c'est l'été",
    "Dov'è il mio ordine?", "Com'è possibile?", "Grazie mille per l'aiuto", "Obrigado pela ajuda!",
    "Não consigo entrar na minha conta", "Где мой заказ?", "Спасибо большое", "注文はいつ届きますか？",
    "ありがとうございます", "我的订单在哪里？", "谢谢你的帮助", "배송은 언제 되나요?", "감사합니다",
    "أين طلبي؟", "شكرا جزيلا", "מתי ההזמנה תגיע?", "Siparişim nerede?", "Dziękuję bardzo",
    "Hvor er min ordre?", "Kiitos paljon", "Ευχαριστώ πολύ", "धन्यवाद", "Cảm ơn bạn rất nhiều",
)  # fmt: skip
DOMAINS = (
    "example.com", "example.org", "gmail.com", "yahoo.com", "outlook.com", "hotmail.co.uk",
    "icloud.com", "proton.me", "company.io", "mail.ru", "web.de", "orange.fr", "qq.com",
    "shop.example.net", "blog.example.co.uk", "github.com", "google.com", "wikipedia.org",
    "youtube.com", "amazon.com", "reddit.com", "stackoverflow.com", "medium.com", "news.ycombinator.com",
)  # fmt: skip
TLDS = ("com", "org", "net", "io", "co.uk", "de", "fr", "es", "it", "jp", "com.br", "ca", "com.au")
