package tagging

import "strings"

// The word lists below are the tagger's only built-in knowledge of the
// language around asset names. A catalogue name that is also one of these
// words ("Apple", "Link", "Rocket", "Peach") is weak evidence on its own:
// a title needs the game IP's name or another asset of the same IP before
// such a name is suggested. They are written for this project (folded form,
// one word per entry) and are deliberately general rather than tuned to any
// catalogue; Options.CommonWords extends them per catalogue.

// lexClass says how ordinary a token is in product titles.
type lexClass uint8

const (
	lexNone    lexClass = iota // not a known ordinary word: looks like a name
	lexStop                    // function word: never evidence on its own
	lexProduct                 // merchandise vocabulary: shirt, plush, bundle
	lexCommon                  // ordinary English word
	lexGiven                   // common given name or surname
)

// stopWords are function words of English and of the languages product
// titles commonly mix in.
const stopWords = `
a an the and or nor but of in on at to for with without from by as is are be
been was were am this that these those it its into onto over under up down out
off about your our my his her their them they we you he she him us me i so than
then too very just not no yes all any each every both few more most other some
such only own same can will would should could may might must shall do does did
has have had via per vs versus plus amp etc ie eg inc ltd llc co
de la le les des du un une et au aux en el los las y por para con del al lo
der die das und von mit zu im am ein eine den dem des fur auf
il di da che gli nel della dei delle ed per
`

// productWords are the vocabulary of merchandise listings.
const productWords = `
shirt shirts tshirt tshirts t tee tees top tops tank tanks hoodie hoodies hoody
sweatshirt sweatshirts sweater sweaters jumper jumpers cardigan jacket jackets
coat coats vest vests polo polos blouse blouses dress dresses skirt skirts pants
trousers jeans shorts leggings joggers sock socks shoe shoes sneaker sneakers
trainers boot boots sandal sandals slipper slippers hat hats cap caps beanie
beanies snapback scarf scarves glove gloves mittens belt belts tie ties bag bags
backpack backpacks tote totes purse wallet wallets pouch case cases cover covers
sleeve sleeves sleeveless longsleeve crewneck crew neck vneck zip zipped zipper
pullover mug mugs cup cups glass glasses tumbler bottle bottles flask plate
plates bowl bowls poster posters print prints canvas frame framed art artwork
sticker stickers decal decals pin pins badge badges patch patches keychain
keychains keyring keyrings lanyard lanyards magnet magnets figure figures
figurine figurines statue statues bust busts model models kit kits plush plushie
plushies plushy stuffed toy toys doll dolls puzzle puzzles game games board
boards card cards deck decks book books comic comics novel manga guide artbook
calendar notebook notebooks journal pen pens pencil pencils stationery lamp
lamps clock clocks watch watches blanket blankets pillow pillows cushion
cushions towel towels rug rugs mat mats mousepad headphones headset controller
controllers console consoles skin skins charger stand stands holder holders box
boxes set sets pack packs bundle bundles collection collections series edition
editions limited exclusive deluxe collector collectors collectible collectibles
official licensed premium vintage retro mini micro mega jumbo giant large medium
small xl xxl xxxl xs sm md lg size sizes unisex mens men womens women kids kid
youth baby babies toddler toddlers adult adults boy boys girl girls gift gifts
starter expansion accessory accessories costume costumes cosplay mask masks
helmet helmets replica prop props ornament ornaments random blind mystery
bigfig minifig minifigs minifigure minifigures figurine brick bricks buildable
playset playsets vehicle vehicles battle pack bagged polybag promo promotional
keychain necklace necklaces bracelet bracelets earring earrings ring rings
pendant pendants charm charms jewelry jewellery jewelery brooch chain chains
choker anklet cufflink cufflinks tiara crown crowns wig wigs umbrella apron
onesie romper bib bibs pajamas pyjamas pajama robe robes gown hood hooded
varsity denim leather cotton wool silk linen polyester fleece knit knitted
woven embroidered printed graphic logo logos emblem icon icons pattern patterned
striped stripe stripes plaid checked chequered floral print sticker coaster
coasters tray trays jar jars tin tins candle candles diffuser speaker speakers
cable cables adapter adapters dock stylus grip grips strap straps band bands
bookmark bookmarks eraser ruler folder folders binder sketchbook planner diary
lunchbox lunch thermos canteen sipper straw straws utensil utensils spoon fork
knife knives chopsticks napkin napkins placemat apron oven mitt kitchen bath
shower curtain curtains bedding duvet sheet sheets quilt throw throws beanbag
sofa chair chairs armchair table tables desk desks shelf shelves drawer
drawers cabinet wardrobe mirror mirrors vase vases pot pots planter planters
wallpaper mural tapestry banner banners flag flags pennant pennants sign signs
plaque plaques trophy trophies medal medals coin coins token tokens dice die
meeple miniature miniatures mini figurines vinyl resin pvc plastic metal metallic
ceramic porcelain wooden wood glass paper cardboard foam rubber silicone acrylic
enamel steel stainless aluminium aluminum copper bronze brass chrome gold golden
silver platinum pearl pearls crystal crystals gem gems gemstone gemstones
diamond diamonds ruby sapphire emerald jade amber onyx opal quartz topaz
qty pcs pc piece pieces part parts unit units item items product products
variant variants style styles version versions design designs type types
color colors colour colours size fit slim regular loose oversized cropped long
short tall wide narrow thin thick heavy light lightweight soft hard warm cool
waterproof wireless portable rechargeable adjustable reversible foldable
washable reusable handmade custom personalized personalised printable digital
download downloadable virtual physical bonus extra free sale new used
refurbished original authentic genuine imported import domestic standard
special anniversary commemorative launch release preorder pre order restock
peluche peluches kuscheltier plusch pluschtier plueschtier stofftier figur
figura figuras figurine figurines tasse taza tazza camiseta camisa maglietta
sudadera felpa sweat bonnet gorra casquette mochila rucksack sac bolso
llavero schlusselanhanger porte cles cle peluche jouet juguete spielzeug
giocattolo carte karte tarjeta poster affiche cartel puzzle rompecabezas
coffret caja schachtel edicion edition ausgabe serie collezione coleccion
sammlung taille talla grosse groesse nino nina enfant kinder bambino
`

// commonWords are ordinary English words that often appear in titles and
// that many character names borrow.
const commonWords = `
able about above accept access account act action active actor add adventure
adventures advice affair after afternoon again against age agent agents air
airport alarm album alert alien aliens alive alley alligator alpha amazing
ambush amber anchor ancient angel angels anger angle angry animal animals ankle
answer ant ants anvil apartment ape apes apple apples apricot arc arch archer
archers architect arctic arena arm armor armour armored armoured arms army
arrow arrows arrival art arts ash ashes ask assault assembly assistant atom
attack attic attitude aunt auto autumn avalanche avenger award awesome axe
babe back bacon bad badger bag bait bakery baker balance ball ballet balloon
balloons bamboo banana bananas band bandit bandits bang bank banner bar barbarian
barber bare bark barn barrel barrels base basement basic basin basket basketball
bass bat bats bath batter battery battle battles bay beach beacon bead beads beak
beam bean beans bear bears beard beast beasts beat beauty beaver bed bedroom bee
beef beer bees beetle beetles before beginner begin bell bells belly below
bench berry berries best bet better big bike bikes bill bills bin bird birds
birthday biscuit bishop bit bite bitter black blade blades blank blast blaze
blazer blend bless blind blink block blocks blood bloom blossom blow blue blues
blunt blush boar board boat boats bob body bold bolt bomb bomber bombs bond bone
bones bonfire bonnet bonus boo book boom boomer boost booth border boss bot bots
bottom bounce bouncy bound bounty bow bowl bowling box boxer brain brains brake
branch brand brass brave bread break breaker breakfast breath breeze brew brick
bride bridge bright brilliant bring broad broken bronze brook broom brother
brothers brown brush bubble bubbles bucket buck buckle bud buddy buffalo bug bugs
build builder builders building bulb bull bullet bulldog bulldozer bully bump
bumper bun bunch bundle bunk bunker bunny burger burn burst bus bush business
busy butter butterfly button buzz buzzer cab cabin cable cactus cafe cage cake
cakes call calm camel camera camp camper campfire camping can canal candy cane
cannon cannons canoe canopy canyon cap cape capital captain car caravan card
care cargo carnival carpet carriage carrier carrot carrots carry cart cartoon
carving cash castle castles cat catch cats cattle cave caves cavern ceiling
cell cellar center centre chain chair chalk champion champions chance change
channel chaos chapter charge chariot charm chart chase chef cherry cherries
chess chest chestnut chick chicken chickens chief child children chili chill
chimney chip chips chocolate choice chop chopper chorus chrome chunk church
cider cinema circle circus city civil claim clam clash class classic claw claws
clay clean clear clerk cliff climb climber climbers clip clock clone clones
close cloth clothes cloud clouds clover clown club clue coach coal coast coaster
cobra cocoa coconut cod code coffee coin cold collar college colonel colony
color column comb combat combo comet comfort comic command commander commando
common company compass complete computer concert cone control cook cookie
cookies cool cooper copper copy coral cord core corn corner corporal cosmic
cottage cotton couch count counter country couple courage course court cousin
cove cow cowboy cowboys cows coyote crab crack cracker craft crafting crane
crash crate crater crawler crazy cream creature creatures creek creep creeper
crew cricket crime crimson critter crocodile crook cross crow crowd crown cruise
cruiser crumb crunch crush crystal cub cube cuckoo cucumber cup cupcake curious
curl curly current curse curtain curve custard cute cutter cutie cyber cyborg
cycle cyclone dad daddy dagger daily dairy daisy dam damage dance dancer danger
dare dark darkness dart dash data date dawn day days dead deal dear death deck
deep deer defense defence defender delivery delta demolition demon den dentist
depot deputy desert design desk destroyer detective devil dew diamond diary
dice digger dime diner dinner dino dinosaur dinosaurs dip direct dirt disco
discovery dish dive diver divers dock doctor dodge dog dogs doll dollar dolphin
dome donkey donut door doors dot dots double dough dove down dozer dragon
dragons drake draw dream dreams dress drift drill drink drive driver drone drop
drum drums duck ducks duke dumpster dune dungeon dust dusty duty dwarf dwarves
eagle ear early earth east easter easy echo eclipse edge egg eggs eight elder
electric electrode element elephant elf elite elk elves ember emerald emperor
empire empty end enemy energy engine engineer epic equipment escape estate
evening event evil exit expert explorer explorers express extreme eye eyes face
factory fair fairy faith falcon fall falls family fan fancy fang fantasy far
farm farmer fashion fast fat father fear feast feather feathers felt fence fern
ferry festival fever field fierce fiery fig fight fighter fighters final finch
finder fine finger fire firefighter firefighters fireman firework fireworks
first fish fisher fisherman fishing fist fit five flag flame flames flash flat
fleet flight flint flip float flood floor flora flower flowers flu fluffy flute
fly flyer flying foam fog folk food fool foot football force forest forever
forge fort fortress fortune forward fossil fountain four fox frame freedom
freeze freezer fresh friend friends frog frogs front frost frosty frozen fruit
fudge fuel full fun funny fur fury future galaxy gale gallery game gang gap
garage garden gardener gas gate gator gear gem general genie ghost ghosts giant
giants gift ginger giraffe girl glacier glade glass glider glitter globe glory
glow gnome go goal goat goblin goblins god gold golden golem golf good goose
gorilla grace grain grand grandma grandpa grape grapes grass grave gravity gray
great green grey grid grill grin grizzly groove ground group grove growl grumpy
guard guardian guardians guest guide guitar gulf gull gum gun gunner guns guru
gust gym habit hair half hall hammer hamster hand handle hang hangar happy
harbor harbour hard hare harmony harp harvest hat hatch haunted haven hawk hay
hazard head heart hearts heat heaven heavy hedge heist helicopter hell hello
helmet help hen herb herbs hero heroes heroine hidden hide high highway hill
hills hippo hive hobby hockey hog hold hole holiday hollow holly home honey hood
hook hoop hop hope hopper horizon horn horse horses hospital host hot hotel
hound hour house hover howl hub hug huge hulk human hunt hunter hunters
hurricane husky hut hydro ice iceberg icy idea idol igloo illusion imp impact
infinity ink inn insect inspector iron island isle ivy jack jacket jail jam jaw
jazz jeep jelly jester jet jewel jewels jingle job jockey joke joker jolly
journey joy judge juice jump jumper jungle junior junk jury justice kangaroo keen
keeper kettle key keys kick kid kids kind king kingdom kingdoms kiss kit kitchen
kite kitten kitty knight knights knot koala lab label lace ladder lady lagoon
lake lamb lamp land lantern lap large laser last late launch launcher lava law
lawn layer lead leader leaf league leap learn leather legacy legend legends
lemon lemonade leopard letter level liberty library lid life lift light
lighthouse lightning lime limit line link links lion lions lip liquid little live lizard
llama load lobster lock locker lodge log logo lone long loop lord lords lost lot
loud lounge love lucky lumber lunar lunch lynx machine mad madness magic
magician magma magnet magnetic maid mail main major maker mall man mango mansion
map maple marble march marine marines mark market marsh mask mason master match
mate maze meadow meal meat mech mechanic medal medic melody melon memory mercy
mermaid mess metal meteor midnight mighty military milk mill mind mine miner
miners mini mint mirror mission mist mister mix mobile mode model mole moment
money monk monkey monkeys monster monsters moon moose mop morning moss mother
moth motor motorcycle mountain mountains mouse mouth move movie mud muffin mug
mule mummy museum mushroom mushrooms music mustang mystery nail name nanny
nature navy neck needle nest net never news newt night nine ninja ninjas noble
noise noodle noodles north nose note nova nugget number nurse nut nuts oak oasis
ocean octopus odd office officer oil old olive omega onion open opera orange
orbit orchard orchid order organ ornament ostrich otter outpost outlaw oven owl
owls ox paddle page paint painter palace palm pan panda panther paper parade
paradise park parrot part party pass passenger past pasta patrol paw peace peach
peaches peak peanut pear pearl pebble pecan pelican pen penguin penguins pepper
perfect perch pet petal phantom phoenix phone piano pick pickle picnic pie piece
pier pig pigs pigeon pike pile pilot pine pineapple pink pioneer pipe pirate
pirates pit pitch pixie pizza place plague plain plains plan plane planes planet
plank plant plants plate platform play player playground plaza plum plumber
plush pocket point poison poker polar pole police pond pony pool pop poppy port
portal post potato potion pound power powers prairie prank precious present
president pretty prey price pride priest prime prince princess prison prize pro
professor promise prop protector proud pudding puddle puff pug pump pumpkin
punch punk pup puppy purple purse push puzzle python quack quake queen quest
quick quiet quill rabbit raccoon race racer racers racing radar radio raft rage
raid raider raiders rail rain rainbow rally ram ranch ranger rangers rapid rat
raven ray razor reaper rebel rebels record red reef rescue reserve rest retro
rex rhino ribbon rice rich ride rider riders ridge rifle right ring riot rise
river road roar robber robin robot robots rock rocket rockets rocks rocky rod
rogue roll roller roof rookie room root rope rose rosy rough round rover row
royal ruby rule ruler run runner rush rust rusty saber sabre sack saddle safari
safe safety saga sage sail sailor saint salad salmon salt sand sandy santa sash
satellite sauce savage scale scarecrow scary scene scholar school science scoop
scooter scorpion scout scrap scratch scream screen screw sea seal search season
seat secret security seed seeker sentinel sergeant serpent service shade shadow
shadows shaman shark sharks sharp shed sheep sheriff shell shelter shield shift
shine ship ships shock shop shore short shot shout shovel show shower shrimp
shrine shuttle sick side siege sign silence silk silly silver simple singer sir
siren sister sisters sketch skate skater skeleton skeletons ski sky slate sled
sleep slice slide slim slime sling slope slot slow slug small smart smash smile
smith smoke smoky snack snail snake snakes sniper snow snowball snowman snowy
soap soccer sock soda sofa soft soldier soldiers solo son song sonic sorcerer
soul sound soup south space spaceship spade spark sparkle sparks sparrow speaker
spear special speed speedy spell spice spicy spider spiders spike spikes spin
spine spirit splash sponge spoon sport sports spot spring sprinkle spy squad
square squid squire squirrel stable stadium staff stage stamp standard star
stars starship station statue steam steel stone stones stop storage store storm
story strange straw strawberry stream street strike striker strong studio stunt
stunts sub submarine subway sugar suit summer summit sun sunny sunset super
supply surf surfer surprise swamp swan sweet swift swim swing switch sword swords
symbol table tail tailor tale talon tangle tank tanker tape target taxi tea
teacher team tech teddy temple ten tent terror test thief thieves thing thorn
thunder ticket tide tiger tigers tile timber time tiny tip titan titans toad
toast toffee tomato tomb tool tools tooth top topaz torch tornado tortoise
totem touch tough tour tow tower towers town toxic track tractor trade trail
trailer train trainer trains trap trash treasure tree trees trek trial tribe
trick trooper troopers trophy tropical trouble truck trucks trunk tulip tumble
tuna tunnel turbo turkey turtle turtles tusk twin twins twist ultimate ultra
umbrella uncle under underwater unicorn union unit universe upper urban valley
vampire van vault vehicle velvet venom vessel vet victory viking vikings villa
village villain vine violet viper volcano volt voyage wagon waiter walker wall
walrus wand war warrior warriors warship wasp watch water wave wax way weapon
weasel web wedding well werewolf west wet whale wheat wheel wheels whip whisker
whiskers whistle white wild willow wind window wing wings winner winter wire
wise wish witch wizard wolf wolves wonder wood woods wool world worm wrench
wrestler yacht yard year yellow yeti yoga young zebra zero zone zoo
one two three four five six seven eight nine ten eleven twelve twenty thirty
hundred thousand million first second third fourth fifth half double triple
single dozen pair
alpine anchovy antique apollo aqua arrow astro aurora autumn avocado azalea
bagel banjo bantam basil beetle beige berry biscuit bluebell blueberry bobcat
bonbon bongo boots boxer bramble bravo breezy brisket broccoli brownie bruiser
bubblegum buckaroo bumble buttercup butterscotch button cabbage caramel
cardinal carmine cashew celery chai champ charcoal cheddar cheese cheesecake
chestnut chevron chickpea chili chipmunk chocolate chrome cinnamon citrus clam
clay clementine clove cobalt cocoa comet cookie coral cosmo cottontail crackers
cranberry crescent crispy crumpet cupid curry custard daffodil dahlia dandelion
diesel dingo dipper dixie doodle dove dumpling dusk eclair eggplant espresso
falafel fennel fig flamingo flurry freckles frosting fuchsia gadget garnet
gazelle gingerbread glimmer gnocchi gooseberry gravy grizzly gumball gumdrop
hazel hazelnut hibiscus hickory honeybee hummingbird iris jasmine jellybean
jitters juniper kiwi latte lavender licorice lilac lily lobster lollipop lotus
macaroni macaron mallow mango maple marmalade marshmallow meringue midge
mocha molasses muffin mulberry mustard nacho nectar nibbles nougat nutmeg
oatmeal olive opal orchid oyster paprika parsley peanut pebbles pepper
peppermint petunia pickles pipsqueak pistachio plum poppy popcorn porcupine
pretzel primrose puddle pumpkin quartz radish raisin raspberry rhubarb ripple
rosemary saffron salsa scallop scoot sesame shortcake snickers snowflake sorbet
sparkler spud squash sprout sugar sunflower sunshine taffy tangerine tapioca
thistle thyme toffee truffle tulip turnip vanilla waffle walnut wasabi whiskey
wiggles zucchini
alarm amazon arctic armada atlas avenue badlands ballad banner baron baroness
beacon bedrock bishop blizzard bluff bolt bonanza boulder boulevard bravado
bubbly buffalo bunny buster cadet calypso camelot canyon cascade castaway
cavalier champion charger charmer chaser cheetah cherub chief chipper chirp
cleaver clipper cloudy cobra colossus condor conductor copper corsair cosmos
cougar courier crusader cutlass cyclops dagger daredevil dart dazzle decoy
delight deluge derby diva domino dragonfly dreamer drifter dynamo eagle echo
elegance emperor enforcer envoy falcon fang fiesta firefly flare fortune
frenzy frontier fusion gadget gambit gargoyle gazer gecko glacier gladiator
glimmer glint griffin guardian gunslinger harbinger harlequin harrier havoc
hawk helix herald hornet hurricane hustler hydra icicle impulse inferno
jackal jaguar javelin juggernaut jupiter karma kestrel knave kraken lancer
legion leviathan lightning lotus lynx maestro magnum mamba marauder mariner
marshal maverick medusa mercury meteor mimic minotaur mirage monarch mongoose
mustang mutant nebula nemesis neptune nightmare nimbus nomad oracle orbit
outlaw paladin panther paragon patriot pegasus phantom pilgrim piranha
pixel plasma poacher prowler psycho puma pyro quasar radiant rampage ranger
raptor rascal ravager razorback reaper rebel relic renegade rhapsody ripper
rocket rogue ronin rover ruffian saber samurai sapphire saturn scarab scimitar
scorcher scorpion scrapper sentry serpent shaman shogun siren skipper skull
slayer slinger smasher sparrow specter spectre sphinx spitfire squall stallion
stalker starlight stinger stingray storm striker sultan summit sundance
swordsman talisman tempest templar terminator thrasher thunderbolt titan
tomahawk tornado torpedo tracker trickster trident triton trooper tundra
twister typhoon valkyrie vandal vanguard vector venom vertigo viper vortex
voyager vulture warden warlock warlord wildcat wizard wolverine wrangler
wraith zealot zenith zephyr
add age also ant apex arena atom award axis
baby bay bingo blink blip bloop boing bonk bop bubble chomp chirp ding
dizzy dopey doze drowsy fizz fizzy flick flop fluff fuzzy giggle goof goofy
grumble gulp hiccup hoot huff jiggle jolt kooky loopy lumpy mellow mumble
munch nap nappy nibble nifty nutty peppy perky pinky plop poof pop pouty
puffy quirky roly rumble rusty sassy scruffy shaggy sleepy sloppy snappy
sneaky sniff snooze snoozy snore snuggle snuggles sparky speedy spiffy
spunky squeaky squiggle stinky sunny tickle tipsy tiptoe topsy twinkle
twirl wacky waddle whimsy wiggle wobble wonky zany zippy zoom
alive amber angel beauty belle blossom bliss bonny breeze brook candy cherry
chloe clover coco crystal daisy dawn destiny diamond dream ebony echo faith
fawn fern flora gem ginger glory grace harmony hazel heather holly honey hope
iris ivy jade jasmine jewel joy juniper lavender liberty lily luna magnolia
maple marigold meadow melody misty olive opal pearl peony pepper poppy primrose
raven river robin rose rosie ruby saffron sage scarlett serenity sky skye
summer sunny sunshine tawny trinity violet willow winter
`

// moreCommonWords extends commonWords: places, trades, creatures.
const moreCommonWords = `
abbey abyss academy ace acid acorn acre admiral aisle album alloy almond altar
amulet angler antenna anthem apron aqueduct arcade archive armchair armory
armoury arrowhead artisan ashore aspen assassin asteroid attic auction avenue
axle axles backbone backyard badge bagpipe bakery balcony ballroom bandage
bandana banquet barge barracks barricade barrier basin bastion battalion
battleship bazaar beacon bearing bedrock beehive belfry bellows beret bigfoot
billboard binoculars birch bison blacksmith blanket blimp blossom boardwalk
bobsled bodyguard boiler bonsai boomerang boulder boutique bracket brigade
brigadier broadcast buccaneer buggy bulldog bungalow buoy burrow butcher cabaret
cadet cafeteria caldera camouflage canal candle cannonball canteen caravan
carousel cartwheel casino catapult cathedral cauldron cavalry cellar chalet
chamber chancellor chapel chariot chateau checkpoint chimney chopper cinder
citadel clamp classroom clinic clockwork cloister cockpit coliseum colosseum
compound concord condor conveyor convoy corral corridor corsair cottage council
courtyard cowgirl crag crane creek crossing crossroads crossbow crypt cupboard
customs dam dealer decoy delivery depot derrick diner dinghy discount dispatch
district dock doghouse dojo dome dormitory drawbridge dredge drydock duel dugout
dynamite elevator embassy emblem encampment engine escalator estate excavator
expedition factory fairground falconry farmhouse ferris fiesta firehouse
firestation fishbowl flagship flatbed fleet footbridge forklift foundry
freighter frigate funfair galleon gallows gangway garrison gateway gazebo
generator geyser glider gondola granary greenhouse grotto guardhouse gunboat
gym hacienda hammock hangar harbour headquarters heliport hideout hideaway
highlands hilltop hostel hovercraft hydrant icebreaker inferno infirmary inlet
jetty junkyard kayak kennel keep kiosk laboratory lair landing landmark
laundry lifeboat lifeguard limousine lookout lumberjack mainframe manor
marina marketplace meadow megaphone mill minecart mineshaft minivan monastery
monorail monument moped motel motorbike mountaintop museum observatory
offshore orchard outback outhouse outpost paddock pagoda pavilion pawnshop
penthouse pharmacy pickup pier pitstop pizzeria plantation playground plaza
podium pontoon porch powerboat prison promenade propeller pub pyramid quarry
quay racetrack raceway railway rampart ranch refinery rescue reservoir resort
restaurant retreat rickshaw rig riverboat roadster rocketship rodeo rollercoaster
rotor rowboat runway safehouse saloon sanctuary sawmill scaffold schooner
scrapyard seaplane seaside sentry shack shipyard shipwreck showroom shrine
sidecar silo skatepark skiff skyscraper sleigh slipway smithy snowmobile
speedboat speedway spire stagecoach stall starfighter steamboat steamer stockade
storefront stronghold studio submarine summit supermarket swamp tavern taxi
teahouse telescope terminal terrace theater theatre tipper tollbooth tower
townhouse tractor trailer tram treehouse trench trolley truck tugboat turbine
turret underground vessel viaduct villa vineyard walkway warehouse watchtower
waterfall waterfront wharf windmill workshop yacht zeppelin
walk tread treads gloom savannah poncho deli puck gala senator general
governor mayor minister officer sheriff marshal chief deputy sergeant lieutenant
colonel cadet ranger trooper guard warden chancellor viceroy regent duchess
countess baroness empress consort heir maiden squire page herald jester bard
monk nun abbot friar druid sorceress enchantress witch warlock necromancer
alchemist apprentice scholar sage oracle prophet seer hermit nomad pilgrim
voyager pioneer settler colonist sailor skipper navigator pilot copilot
astronaut cosmonaut scientist inventor engineer mechanic technician operator
driver rider jockey racer champion contender challenger rival hero heroine
villain henchman minion sidekick mentor student teacher tutor coach referee
umpire fan spectator tourist traveler traveller explorer adventurer
photographer reporter journalist editor artist painter sculptor musician
drummer guitarist singer dancer actor actress director producer chef cook
baker butcher grocer farmer gardener florist fisherman hunter trapper miner
builder carpenter plumber electrician mason welder blacksmith tailor cobbler
jeweler jeweller merchant trader shopkeeper cashier clerk banker lawyer
judge doctor nurse surgeon dentist vet veterinarian paramedic firefighter
policeman policewoman detective spy agent soldier knight archer swordsman
gladiator samurai ninja pirate viking cowboy sheriff outlaw bandit thief
robber burglar smuggler poacher prisoner convict guard zookeeper keeper
caretaker janitor mailman postman courier messenger butler maid nanny
vampire werewolf zombie mummy ghost ghoul skeleton goblin troll ogre orc
gnome elf dwarf giant dragon wyvern griffin hydra kraken unicorn centaur
mermaid siren sphinx phoenix yeti sasquatch cyclops minotaur golem gargoyle
imp fairy pixie sprite nymph genie djinn demon angel spirit wraith banshee
shark whale dolphin octopus squid crab lobster shrimp jellyfish starfish
seahorse turtle tortoise frog toad newt lizard gecko iguana chameleon snake
python cobra viper crocodile alligator dinosaur raptor rex pterodactyl
triceratops stegosaurus brontosaurus mammoth sabertooth wolf fox bear panda
koala kangaroo wallaby platypus sloth armadillo anteater hedgehog porcupine
beaver otter badger raccoon skunk squirrel chipmunk hamster gerbil guinea
rabbit hare mouse rat mole bat owl hawk eagle falcon vulture condor parrot
macaw toucan flamingo pelican stork heron crane swan goose duck chicken
rooster hen turkey peacock penguin ostrich emu kiwi robin sparrow finch
canary cardinal bluebird blackbird crow raven magpie woodpecker hummingbird
butterfly moth bee wasp hornet ant beetle ladybug ladybird dragonfly
grasshopper cricket spider scorpion snail slug worm caterpillar lion tiger
leopard cheetah jaguar panther lynx cougar puma bobcat elephant rhino hippo
giraffe zebra camel llama alpaca horse pony donkey mule cow bull ox buffalo
yak goat sheep lamb ram pig boar deer elk moose reindeer antelope gazelle
monkey ape gorilla chimp chimpanzee orangutan baboon lemur meerkat mongoose
hyena jackal dingo coyote dog puppy cat kitten
modern offer slam wake tranquil sprocket cog axle piston lever pulley hinge
gear gearbox crank bolt nut washer spring valve chassis bumper spoiler
delivery adventure champion challenge chase escape rescue patrol pursuit
getaway showdown standoff ambush attack assault raid heist takedown
breakout breakthrough launch landing lift liftoff mission quest journey
trip tour voyage expedition safari trek hike ride drive flight cruise
race rally derby tournament contest match game battle war fight duel
clash brawl skirmish siege invasion conquest defense defence stand
`

// givenNames are common given names and surnames: a single one in a title is
// more often a person, a product line or a size chart than a character.
const givenNames = `
aaron abby abigail ada adam adrian agnes al alan albert alex alexa alexander
alexandra alfie alfred ali alice alicia allan allen amanda amber amelia amy
andrea andrew andy angela angie anita ann anna anne annie anthony antonio april
archie arnold arthur ashley audrey austin ava barbara barry bart becky bella
ben benjamin benny bernard bert beth betty bianca bill billy blake bob bobby
bonnie brad brandon brenda brian bridget brooke bruce bryan bud buddy caleb
calvin cameron carl carla carlos carmen carol caroline carrie casey cassie
catherine cathy charles charlie charlotte chelsea cheryl chester chloe chris
christian christina christine christopher chuck cindy claire clara clark claude
clint clyde cody colin connie conrad craig cynthia daisy dale dan daniel danielle
danny darren dave david dean debbie deborah dennis derek diana diane dick diego
dolly don donald donna doris dorothy doug douglas duke dylan eddie eddy edgar
edith edward edwin eileen elaine eleanor elena eli elijah elizabeth ella ellen
ellie elliot elsa emily emma eric erica erik ernest ethan eugene eva evan eve
evelyn ezra faye felix fiona florence floyd frances francis frank frankie fred
freddie freddy frederick gabriel gabriella gail gary gavin gene george georgia
gerald gina glen glenn gloria gordon grace greg gregory gus gwen hank hannah
harold harriet harry harvey hazel heidi helen henry herbert herman hilda holly
howard hugh hugo ian irene isaac isabel isabella ivan jack jackie jackson jacob
jade jake james jamie jane janet janice jared jason jay jean jeff jeffrey jenna
jennifer jenny jeremy jerry jess jesse jessica jessie jill jim jimmy joan joanna
joe joel joey john johnny jon jonathan jordan jose joseph josh joshua joy joyce
juan judith judy julia julian julie june justin karen karl kate katherine kathy
katie kay keith kelly ken kenneth kenny kevin kim kimberly kirk kyle larry laura
lauren lawrence leah lee leo leon leonard leroy leslie lewis liam lily linda
lisa liz logan lois lola lorenzo lori louis louise lucas lucy luis luke lydia
lynn mabel madison maggie marco marcus margaret maria marie marilyn mario marion
marisa mark marsha martha martin marty marvin mary matt matthew maureen max maxine
megan melanie melissa mia michael michelle mick mike mildred milo miranda molly
monica morgan nancy naomi natalie nathan neil nellie nicholas nick nicole nina
noah norma norman olga oliver olivia oscar otto owen pam pamela pat patricia
patrick paul paula pauline pearl peggy penny percy pete peter phil philip
phyllis polly rachel ralph randy ray raymond rebecca reggie rex richard rick
ricky rita rob robert roberta robin rod rodney roger ron ronald ronnie rosa
rose rosie ross roy ruby russell ruth ryan sally sam samantha samuel sandra
sandy sara sarah scott sean seth shannon sharon shawn sheila shirley sidney
simon sophia sophie stan stanley stella stephanie stephen steve steven stewart
stuart sue susan suzanne sydney sylvia tammy tanya ted teddy terry theo theodore
thomas tiffany tim timmy timothy tina toby todd tom tommy tony tracy travis
trevor troy tyler valerie vanessa vera veronica vic victor victoria vince
vincent violet virginia vivian wade wally walter wanda warren wayne wendy
wesley will william willie wilma winston yvonne zach zoe
abe ace alf alfonso axel nate freya harley quinn vic willy leonardo patty zane ali amos angus archibald arlo atticus barney basil
beau benedict benji bernie biff boris boyd brady brock bruno buck butch cal
cedric chad chaz chip clancy clem cliff cole conan cooper dante darwin dexter
dino dirk dominic dorian duncan dustin earl elmer elton elvis emmett enzo
ernie eugene fergus finn fitz flynn forrest franco fritz gaston gideon gil
gilbert gino gordie grady griffin gunther gus hal hamish hans harlan hector
horace huck hugo igor jasper jeb jed jethro jonas jonah julius kirby lars
lenny leopold lester lincoln linus lionel lloyd luca lucian luther lyle mack
magnus malcolm manny marcel marlon marshall maurice maximilian merlin milton
monty morris murphy myron ned nelson nigel norbert odin olaf ollie omar orville
otis ozzy pablo pedro perry pierre quentin quincy ralphie ramon randall raul
reuben rhett ricardo rocco roland romeo rory rudy rufus rupert sal salvador
sammy santiago saul sebastian sergio sherman sid silas sonny spencer stanton
sterling stu sven tad thaddeus thor titus tobias tucker ulysses vernon victor
vinny wally walt ward wendell wilbur wilfred winnie wyatt xavier zack zeke
adele agatha alma anastasia angelica annabelle annette antoinette ariel astrid
beatrice belinda bernadette bertha betsy beverly blanche bonita brenda bridget
camilla candace carlotta cassandra cecilia celeste charlene clementine colette
constance cora cordelia daphne deirdre delilah della dinah dixie dolores dora
edna effie eloise elsie esme esmeralda estelle esther ethel eunice fanny felicity
flo francesca freda frida gertrude gigi ginny greta gwendolyn harriet helga
henrietta hermione hester hildegard ida imogen ingrid irma isla jacqueline jolene
josephine judy juliet kitty lana lara lena lenore lettie lila lilian lillian
lorraine lottie lucille lucinda lula lulu mae maeve magda marcy margo marguerite
marla marlene martina matilda maude mavis maxie mimi minnie mira mitzi moira
muriel myrtle nadia nell nettie nora octavia odette olive opal ophelia patsy
penelope petra phoebe pippa priscilla prudence queenie rhoda rosalind rosemary
roxanne sabrina selma shelby sonia stacy sybil tabitha tess thelma trixie
trudy una ursula velma vicky viola wilhelmina winifred yolanda zelda
smith jones brown johnson williams miller davis wilson taylor anderson thomas
jackson white harris martin thompson garcia martinez robinson clark rodriguez
lewis walker hall allen young king wright lopez hill scott green adams baker
nelson carter mitchell perez roberts turner phillips campbell parker evans
edwards collins stewart sanchez morris rogers reed cook morgan bell murphy
bailey rivera cooper richardson cox howard ward torres peterson gray ramirez
james watson brooks kelly sanders price bennett wood barnes ross henderson
coleman jenkins perry powell long patterson hughes flores washington butler
simmons foster gonzales bryant alexander russell griffin diaz hayes
`

// buildLexicon folds the built-in lists (and extra, the catalogue's own
// additions) into one map. A word in several lists keeps its weakest class
// that still says something: stop beats product beats common beats given.
func buildLexicon(extra []string, fold func(string) string) map[string]lexClass {
	lex := make(map[string]lexClass, 6000)
	add := func(list string, c lexClass) {
		for _, w := range strings.Fields(list) {
			if old, ok := lex[w]; ok && old <= c {
				continue
			}
			lex[w] = c
		}
	}
	add(stopWords, lexStop)
	add(productWords, lexProduct)
	add(commonWords, lexCommon)
	add(moreCommonWords, lexCommon)
	add(givenNames, lexGiven)
	for _, w := range extra {
		for _, tok := range tokenize(fold(w)) {
			if old, ok := lex[tok.text]; ok && old <= lexCommon {
				continue
			}
			lex[tok.text] = lexCommon
		}
	}
	return lex
}

// lexOf classifies a folded word, looking through regular inflections
// ("rockets", "walking", "painted" are as ordinary as their stems).
func lexOf(lex map[string]lexClass, w string) lexClass {
	if c, ok := lex[w]; ok {
		return c
	}
	if len(w) < 4 {
		return lexNone
	}
	for _, suf := range [...]struct{ cut, add string }{
		{"s", ""}, {"es", ""}, {"ies", "y"}, {"ing", ""}, {"ing", "e"}, {"ed", ""}, {"ed", "e"}, {"d", ""},
		{"ied", "y"}, {"er", ""}, {"er", "e"}, {"ers", ""}, {"ers", "e"}, {"ly", ""}, {"est", ""}, {"ness", ""},
	} {
		if !strings.HasSuffix(w, suf.cut) || len(w)-len(suf.cut) < 3 {
			continue
		}
		stem := w[:len(w)-len(suf.cut)] + suf.add
		if c, ok := lex[stem]; ok && c != lexGiven {
			return c
		}
		// running → run, stopped → stop
		if n := len(stem); suf.add == "" && n >= 4 && stem[n-1] == stem[n-2] {
			if c, ok := lex[stem[:n-1]]; ok && c != lexGiven {
				return c
			}
		}
	}
	return lexNone
}
