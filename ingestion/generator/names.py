"""Embedded reference pools for the synthetic retailer: names, places, domains, products.

Pools are ordered from most to least common; callers draw with Zipf-like weights so that
common names (and therefore natural homonyms) appear as often as they do in real files.
"""

from __future__ import annotations

FR_FEMALE = (
    "Marie Nathalie Isabelle Sylvie Catherine Françoise Christine Valérie Sandrine Sophie "
    "Céline Stéphanie Véronique Camille Julie Aurélie Émilie Léa Chloé Manon Sarah Laura "
    "Caroline Anne Hélène Claire Pauline Mathilde Élodie Virginie Patricia Martine Monique "
    "Brigitte Nicole Christelle Delphine Agnès Corinne Laurence Émilie Inès Jade Louise "
    "Alice Lina Zoé Margaux Juliette Charlotte Anaïs Clémence Marion Lucie Océane Justine "
    "Maëlle Noémie Héloïse Joséphine Béatrice Geneviève Gaëlle Solène Anne-Sophie "
    "Marie-Claire Marie-Laure Anne-Marie Éléonore Capucine Apolline Bérénice Ségolène "
    "Constance Victoire Adèle Rose Ambre Elsa Jeanne Nadia Yasmina Fatima Leïla Amandine"
).split()
FR_MALE = (
    "Jean Philippe Michel Alain Nicolas Christophe Pierre Patrick Stéphane Laurent Frédéric "
    "Sébastien David Éric Julien Olivier Thomas Alexandre Guillaume François Vincent Antoine "
    "Maxime Romain Jérôme Thierry Bruno Didier Pascal Daniel Bernard Gérard Jacques Hugo "
    "Lucas Louis Gabriel Arthur Raphaël Jules Léo Adam Nathan Théo Paul Mathieu Benoît "
    "Cédric Fabrice Emmanuel Yannick Hervé Arnaud Damien Florian Jérémy Kévin Quentin "
    "Clément Baptiste Benjamin Charles Henri Édouard Grégoire Aurélien Jean-Pierre "
    "Jean-Luc Jean-François Jean-Marc Pierre-Yves Marc-Antoine Karim Mehdi Yanis Rayan "
    "Gaël Loïc Joël Noël Hadrien Timothée"
).split()
FR_LAST = (
    "Martin Bernard Dubois Thomas Robert Richard Petit Durand Leroy Moreau Simon Laurent "
    "Lefèvre Michel Garcia David Bertrand Roux Vincent Fournier Morel Girard André Lefebvre "
    "Mercier Dupont Lambert Bonnet François Martinez Legrand Garnier Faure Rousseau Blanc "
    "Guérin Muller Henry Roussel Nicolas Perrin Morin Mathieu Clément Gauthier Dumont "
    "Lopez Fontaine Chevalier Robin Masson Sanchez Gérard Nguyen Boyer Denis Lemaire "
    "Duval Joly Gautier Roger Roche Roy Noël Meyer Lucas Meunier Jean Pérez Marchand "
    "Dufour Blanchard Marie Barbier Brun Dumas Brunet Schmitt Leroux Colin Fernandez "
    "Pierre Renard Arnaud Rolland Caron Aubert Giraud Leclerc Vidal Bourgeois Renaud "
    "Lemoine Picard Gaillard Philippe Leclercq Lacroix Fabre Dupuis Olivier Rodriguez "
    "Da_Silva Hubert Louis Charles Guillot Rivière Le_Gall Guillaume Adam Rey Moulin "
    "Gonzalez Berger Lecomte Menard Fleury Deschamps Carpentier Julien Benoît Paris "
    "Maillard Marchal Aubry Vasseur Le_Roux Renault Jacquet Collet Prévost Poirier "
    "Charpentier Royer Huet Baron Dupuy Pons Paul Laine Carré Breton Rémy Schneider "
    "Perrot Guyot Barré Marty Cousin Le_Goff Le_Bris Le_Borgne de_la_Fontaine de_Villiers "
    "de_Saint-Exupéry d'Arnaud de_Lestrange Lévêque Bouvier Hoarau Payet Ménard "
    "Bénard Besnard Chauvin Desjardins Després Lebœuf Séguin Thébault Tessier Maréchal "
    "Delacroix Dubreuil Labbé Lagarde Loiseau Pelletier Poulain Texier Vallée Bréchet "
    "Gauthier-Lefèvre Martin-Dubois Roux-Combaluzier Saint-Martin Bellamy Cordier Hamel"
).split()
BE_FIRST_F = "Emma Louise Olivia Lotte Julie Sarah Laura Lien Elise Charlotte".split()
BE_FIRST_M = "Lucas Louis Noah Arthur Liam Adam Jules Victor Mathis Wout".split()
BE_LAST = (
    "Peeters Janssens Maes Jacobs Mertens Willems Claes Goossens Wouters De_Smet "
    "Dubois Lambert Dupont Martin Simon Van_den_Berg Vandenberghe Lemaire Leclercq Hermans"
).split()
CH_FIRST_F = "Mia Lena Léa Anna Laura Sara Nina Chiara Elena Noémie".split()
CH_FIRST_M = "Noah Luca Léon David Samuel Matteo Nicolas Julien Yves Luc".split()
CH_LAST = (
    "Müller Meier Schmid Keller Weber Huber Schneider Meyer Steiner Fischer "
    "Favre Rochat Gerber Bonvin Perret Fontana Rossi Brunner Baumann Zürcher"
).split()
ES_FIRST_F = "María Carmen Lucía Ana Laura Marta Elena Sofía Paula Isabel".split()
ES_FIRST_M = "José Antonio Manuel Javier Carlos Daniel David Pablo Álvaro Sergio".split()
ES_LAST = (
    "García Fernández González Rodríguez López Martínez Sánchez Pérez Gómez Martín "
    "Jiménez Ruiz Hernández Díaz Moreno Muñoz Álvarez Romero Navarro Torres"
).split()
DE_FIRST_F = "Anna Julia Lena Katharina Sophie Laura Hannah Jana Sabine Ursula".split()
DE_FIRST_M = "Lukas Jonas Felix Maximilian Leon Paul Jürgen Stefan Andreas Michael".split()
DE_LAST = (
    "Müller Schmidt Schneider Fischer Weber Meyer Wagner Becker Schulz Hoffmann "
    "Schäfer Koch Bauer Richter Klein Wolf Schröder Neumann Schwarz Zimmermann"
).split()
IT_FIRST_F = "Giulia Sofia Francesca Chiara Martina Sara Alessia Valentina Elena Federica".split()
IT_FIRST_M = "Francesco Alessandro Lorenzo Matteo Andrea Marco Luca Giuseppe Davide Niccolò".split()
IT_LAST = (
    "Rossi Russo Ferrari Esposito Bianchi Romano Colombo Ricci Marino Greco "
    "Bruno Gallo Conti De_Luca Mancini Costa Giordano Rizzo Lombardi D'Angelo"
).split()
GB_FIRST_F = "Olivia Amelia Isla Ava Emily Sophie Grace Charlotte Jessica Emma".split()
GB_FIRST_M = "Oliver George Harry Jack Jacob Charlie Thomas James William Oscar".split()
GB_LAST = (
    "Smith Jones Williams Taylor Brown Davies Evans Wilson Thomas Johnson "
    "Roberts Walker Wright Robinson Thompson White Hughes Edwards Green O'Brien"
).split()

NICKNAMES = {
    "Alexandre": "Alex", "Catherine": "Cathy", "Christophe": "Chris", "Nicolas": "Nico",
    "Stéphanie": "Steph", "Frédéric": "Fred", "Sébastien": "Seb", "Guillaume": "Guigui",
    "Isabelle": "Isa", "Élisabeth": "Babeth", "Christine": "Christie", "Valérie": "Val",
    "Maximilien": "Max", "Maxime": "Max", "Véronique": "Véro", "Dominique": "Dom",
    "Philippe": "Phil", "Patricia": "Patty", "Jean-Pierre": "JP", "Jean-François": "JF",
    "Jean-Luc": "JL", "Anne-Sophie": "Anso", "Marie-Laure": "Malou", "Emmanuel": "Manu",
    "Thomas": "Tom", "Benjamin": "Ben", "Mathilde": "Mathou", "Charlotte": "Charlie",
    "Caroline": "Caro", "Aurélie": "Aurel", "Julien": "Ju", "Antoine": "Toine",
    "Hélène": "Lena", "Delphine": "Delph", "Gabriel": "Gaby", "Raphaël": "Raph",
    "Théo": "Théo", "Florian": "Flo", "Clémence": "Clem", "Joséphine": "Jo", "Sophie": "Sof",
    "Marion": "Manou", "Pauline": "Popo", "Anaïs": "Nana", "Katharina": "Kathi",
    "Francesca": "Fra", "Alessandro": "Ale", "Giuseppe": "Beppe", "Michael": "Mike",
    "William": "Will", "James": "Jim", "Jessica": "Jess", "Charles": "Charly",
    "Grégoire": "Greg", "Timothée": "Tim", "Édouard": "Doudou", "Kévin": "Kev",
}

# (city, country, postcodes, weight, phone area for landlines)
CITIES = (
    ("Paris", "FR", [f"750{i:02d}" for i in range(1, 21)], 220, "01"),
    ("Neuilly-sur-Seine", "FR", ["92200"], 14, "01"),
    ("Boulogne-Billancourt", "FR", ["92100"], 14, "01"),
    ("Versailles", "FR", ["78000"], 12, "01"),
    ("Saint-Germain-en-Laye", "FR", ["78100"], 9, "01"),
    ("Levallois-Perret", "FR", ["92300"], 8, "01"),
    ("Vincennes", "FR", ["94300"], 6, "01"),
    ("Lyon", "FR", [f"6900{i}" for i in range(1, 10)], 60, "04"),
    ("Villeurbanne", "FR", ["69100"], 10, "04"),
    ("Marseille", "FR", [f"130{i:02d}" for i in range(1, 17)], 55, "04"),
    ("Aix-en-Provence", "FR", ["13090", "13100"], 16, "04"),
    ("Nice", "FR", ["06000", "06100", "06200", "06300"], 30, "04"),
    ("Cannes", "FR", ["06400"], 12, "04"),
    ("Antibes", "FR", ["06600"], 8, "04"),
    ("Monaco", "MC", ["98000"], 4, "04"),
    ("Toulouse", "FR", ["31000", "31100", "31200", "31300", "31400", "31500"], 38, "05"),
    ("Bordeaux", "FR", ["33000", "33100", "33200", "33300", "33800"], 35, "05"),
    ("Biarritz", "FR", ["64200"], 7, "05"),
    ("Montpellier", "FR", ["34000", "34070", "34080", "34090"], 25, "04"),
    ("Nantes", "FR", ["44000", "44100", "44200", "44300"], 26, "02"),
    ("Rennes", "FR", ["35000", "35200", "35700"], 20, "02"),
    ("Strasbourg", "FR", ["67000", "67100", "67200"], 24, "03"),
    ("Lille", "FR", ["59000", "59800"], 24, "03"),
    ("Lille-Hellemmes", "FR", ["59260"], 3, "03"),
    ("Reims", "FR", ["51100"], 10, "03"),
    ("Dijon", "FR", ["21000"], 9, "03"),
    ("Grenoble", "FR", ["38000", "38100"], 13, "04"),
    ("Annecy", "FR", ["74000"], 9, "04"),
    ("Tours", "FR", ["37000", "37100", "37200"], 9, "02"),
    ("Angers", "FR", ["49000", "49100"], 9, "02"),
    ("Rouen", "FR", ["76000", "76100"], 10, "02"),
    ("Caen", "FR", ["14000"], 8, "02"),
    ("Le Havre", "FR", ["76600"], 7, "02"),
    ("Orléans", "FR", ["45000"], 7, "02"),
    ("Metz", "FR", ["57000"], 8, "03"),
    ("Nancy", "FR", ["54000"], 8, "03"),
    ("Clermont-Ferrand", "FR", ["63000", "63100"], 8, "04"),
    ("Saint-Étienne", "FR", ["42000", "42100"], 7, "04"),
    ("Avignon", "FR", ["84000"], 6, "04"),
    ("Nîmes", "FR", ["30000", "30900"], 6, "04"),
    ("Perpignan", "FR", ["66000", "66100"], 6, "04"),
    ("La Rochelle", "FR", ["17000"], 6, "05"),
    ("Pau", "FR", ["64000"], 5, "05"),
    ("Brest", "FR", ["29200"], 6, "02"),
    ("Deauville", "FR", ["14800"], 3, "02"),
    ("Saint-Tropez", "FR", ["83990"], 3, "04"),
    ("Toulon", "FR", ["83000", "83100", "83200"], 9, "04"),
    ("Ajaccio", "FR", ["20000", "20090"], 3, "04"),
    ("Chamonix-Mont-Blanc", "FR", ["74400"], 2, "04"),
    ("Bruxelles", "BE", ["1000", "1050", "1180"], 20, ""),
    ("Anvers", "BE", ["2000", "2018"], 8, ""),
    ("Liège", "BE", ["4000"], 5, ""),
    ("Genève", "CH", ["1201", "1204", "1207"], 12, ""),
    ("Lausanne", "CH", ["1003", "1006"], 7, ""),
    ("Zürich", "CH", ["8001", "8002"], 6, ""),
    ("Madrid", "ES", ["28001", "28006"], 8, ""),
    ("Barcelona", "ES", ["08001", "08008"], 7, ""),
    ("München", "DE", ["80331", "80539"], 6, ""),
    ("Berlin", "DE", ["10115", "10719"], 6, ""),
    ("Milano", "IT", ["20121", "20123"], 7, ""),
    ("Roma", "IT", ["00184", "00186"], 5, ""),
    ("London", "GB", ["SW1X 7XL", "W1K 2HR", "NW3 1QE"], 10, ""),
)

STREET_TYPES = ("rue", "avenue", "boulevard", "chemin", "place", "allée", "impasse", "quai", "cours")
STREET_TYPE_WEIGHTS = (50, 18, 10, 5, 5, 4, 3, 3, 2)
STREET_NAMES = (
    "de la Paix", "Victor Hugo", "du Général de Gaulle", "Jean Jaurès", "de la République",
    "Pasteur", "des Lilas", "du Faubourg Saint-Honoré", "Saint-Michel", "de Rivoli",
    "Foch", "des Champs-Élysées", "Gambetta", "de Verdun", "du Maréchal Leclerc",
    "Émile Zola", "de la Liberté", "des Écoles", "du Moulin", "de l'Église", "Carnot",
    "Voltaire", "des Acacias", "de la Gare", "du Château", "Montaigne", "Marceau",
    "des Tilleuls", "de Provence", "Sainte-Catherine", "de la Croix-Rousse", "Paul Bert",
    "Anatole France", "Jules Ferry", "de Bretagne", "des Peupliers", "du Port", "Mozart",
    "de Grenelle", "Haussmann", "Wagram", "des Martyrs", "de Belleville", "Lamartine",
    "Pierre Brossolette", "Félix Faure", "Clemenceau", "de Strasbourg", "d'Alsace",
    "du Four", "Saint-Honoré", "de Sèvres", "Bonaparte", "des Rosiers", "de Turenne",
    "Nationale", "de la Canebière", "du Vieux Port", "des Carmes", "de l'Horloge",
)
PERSONAL_DOMAINS = (
    "gmail.com", "orange.fr", "free.fr", "hotmail.fr", "hotmail.com", "yahoo.fr",
    "laposte.net", "sfr.fr", "outlook.fr", "outlook.com", "icloud.com", "wanadoo.fr",
)
PERSONAL_DOMAIN_WEIGHTS = (34, 13, 9, 9, 4, 6, 5, 5, 5, 3, 4, 3)
CORPORATE_DOMAINS = (
    "axa.fr", "bnpparibas.com", "loreal.com", "sncf.fr", "airfrance.fr", "capgemini.com",
    "societegenerale.fr", "danone.com", "orange.com", "total.fr", "renault.com", "chu-lyon.fr",
)
DOMAIN_TYPOS = {
    "gmail.com": "gmial.com", "hotmail.fr": "hotmial.fr", "hotmail.com": "hotmail.con",
    "orange.fr": "ornage.fr", "yahoo.fr": "yaho.fr", "free.fr": "fre.fr",
    "laposte.net": "lapost.net", "outlook.fr": "outlok.fr", "sfr.fr": "sfr.com",
    "outlook.com": "outlook.co", "icloud.com": "iclould.com", "wanadoo.fr": "wanado.fr",
}

CATEGORIES = ("bags", "shoes", "ready_to_wear", "jewellery", "accessories", "beauty")
SUBCATEGORIES = {
    "bags": (("tote", "Cabas"), ("crossbody", "Sac bandoulière"), ("clutch", "Pochette"),
             ("backpack", "Sac à dos"), ("shoulder", "Sac porté épaule"), ("travel", "Sac de voyage")),
    "shoes": (("sneakers", "Baskets"), ("pumps", "Escarpins"), ("boots", "Bottines"),
              ("loafers", "Mocassins"), ("sandals", "Sandales"), ("ballerinas", "Ballerines")),
    "ready_to_wear": (("dress", "Robe"), ("coat", "Manteau"), ("jacket", "Veste"),
                      ("knitwear", "Pull"), ("shirt", "Chemise"), ("trousers", "Pantalon"),
                      ("skirt", "Jupe"), ("t_shirt", "T-shirt")),
    "jewellery": (("ring", "Bague"), ("necklace", "Collier"), ("bracelet", "Bracelet"),
                  ("earrings", "Boucles d'oreilles"), ("watch", "Montre")),
    "accessories": (("scarf", "Foulard"), ("belt", "Ceinture"), ("wallet", "Portefeuille"),
                    ("sunglasses", "Lunettes de soleil"), ("card_holder", "Porte-cartes"),
                    ("hat", "Chapeau")),
    "beauty": (("perfume", "Parfum"), ("lipstick", "Rouge à lèvres"), ("skincare", "Soin visage"),
               ("candle", "Bougie parfumée"), ("nail", "Vernis")),
}
# (price low, price high) in EUR per category
PRICE_RANGES = {
    "bags": (650.0, 4800.0), "shoes": (390.0, 1450.0), "ready_to_wear": (250.0, 3900.0),
    "jewellery": (180.0, 6500.0), "accessories": (120.0, 890.0), "beauty": (38.0, 260.0),
}
MODEL_WORDS = (
    "Horizon", "Étoile", "Rivage", "Camille", "Opéra", "Alma", "Marais", "Riviera", "Soleil",
    "Lune", "Saint-Germain", "Montaigne", "Vendôme", "Flore", "Azur", "Nuit", "Brume", "Tuileries",
    "Palais", "Bastille", "Odéon", "Célestine", "Mistral", "Sirocco", "Iris", "Pivoine", "Cèdre",
)
MATERIALS = ("cuir grainé", "cuir lisse", "toile", "soie", "cachemire", "laine", "veau velours",
             "or jaune", "or rose", "argent", "coton", "lin", "python", "nylon technique")
COLLECTIONS = ("Permanent", "Croisière 2024", "Automne-Hiver 2024", "Printemps-Été 2025",
               "Croisière 2025", "Automne-Hiver 2025", "Printemps-Été 2026", "Automne-Hiver 2026",
               "Capsule Riviera", "Édition limitée")

# store_id, name, kind, street, postcode, city, country, opened_on
STORES = (
    ("S001", "Horizon Paris Saint-Honoré", "boutique", "231 rue Saint-Honoré", "75001", "Paris", "FR", "2009-03-14"),
    ("S002", "Horizon Paris Montaigne", "boutique", "48 avenue Montaigne", "75008", "Paris", "FR", "2011-09-01"),
    ("S003", "Horizon Paris Saint-Germain", "boutique", "12 rue du Four", "75006", "Paris", "FR", "2013-04-20"),
    ("S004", "Horizon Paris Marais", "boutique", "27 rue des Francs-Bourgeois", "75004", "Paris", "FR", "2016-05-12"),
    ("S005", "Horizon Galeries Lafayette Haussmann", "corner", "40 boulevard Haussmann", "75009", "Paris", "FR", "2014-10-01"),
    ("S006", "Horizon Printemps Haussmann", "corner", "64 boulevard Haussmann", "75009", "Paris", "FR", "2018-03-01"),
    ("S007", "Horizon Lyon Presqu'île", "boutique", "18 rue Édouard Herriot", "69001", "Lyon", "FR", "2012-06-02"),
    ("S008", "Horizon Marseille Paradis", "boutique", "95 rue Paradis", "13006", "Marseille", "FR", "2015-02-14"),
    ("S009", "Horizon Nice Masséna", "boutique", "7 avenue de Verdun", "06000", "Nice", "FR", "2013-07-01"),
    ("S010", "Horizon Cannes Croisette", "boutique", "58 boulevard de la Croisette", "06400", "Cannes", "FR", "2010-06-15"),
    ("S011", "Horizon Bordeaux Grands Hommes", "boutique", "3 place des Grands Hommes", "33000", "Bordeaux", "FR", "2014-09-20"),
    ("S012", "Horizon Toulouse Capitole", "boutique", "22 rue d'Alsace-Lorraine", "31000", "Toulouse", "FR", "2017-04-08"),
    ("S013", "Horizon Lille Vieux-Lille", "boutique", "15 rue de la Grande Chaussée", "59800", "Lille", "FR", "2016-11-05"),
    ("S014", "Horizon Strasbourg Kléber", "boutique", "9 place Kléber", "67000", "Strasbourg", "FR", "2018-09-15"),
    ("S015", "Horizon Nantes Graslin", "boutique", "4 place Graslin", "44000", "Nantes", "FR", "2019-03-23"),
    ("S016", "Horizon Galeries Lafayette Lyon", "corner", "6 place des Cordeliers", "69002", "Lyon", "FR", "2019-10-01"),
    ("S017", "Horizon Saint-Tropez", "boutique", "11 rue François Sibilli", "83990", "Saint-Tropez", "FR", "2020-05-30"),
    ("S018", "Horizon Biarritz", "boutique", "8 place Clemenceau", "64200", "Biarritz", "FR", "2021-06-19"),
    ("S019", "Horizon Outlet La Vallée Village", "outlet", "3 cours de la Garonne", "77700", "Serris", "FR", "2015-04-01"),
    ("S020", "Horizon Outlet Roppenheim", "outlet", "1 route de Roppenheim", "67480", "Roppenheim", "FR", "2019-05-01"),
    ("S021", "Horizon Outlet Miramas", "outlet", "Chemin de Tapie", "13140", "Miramas", "FR", "2020-04-01"),
    ("S022", "Horizon Bruxelles Louise", "boutique", "47 avenue Louise", "1050", "Bruxelles", "BE", "2016-09-10"),
    ("S023", "Horizon Genève Rhône", "boutique", "62 rue du Rhône", "1204", "Genève", "CH", "2017-11-18"),
    ("S024", "Horizon London Sloane Street", "boutique", "152 Sloane Street", "SW1X 9BX", "London", "GB", "2018-05-26"),
    ("S025", "Horizon Milano Montenapoleone", "boutique", "14 via Monte Napoleone", "20121", "Milano", "IT", "2022-03-12"),
)
