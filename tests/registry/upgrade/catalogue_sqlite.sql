BEGIN TRANSACTION;
CREATE TABLE "auth_group" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "name" varchar(150) NOT NULL UNIQUE);
INSERT INTO "auth_group" VALUES(1,'reviewers');
CREATE TABLE "auth_group_permissions" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "group_id" integer NOT NULL REFERENCES "auth_group" ("id") DEFERRABLE INITIALLY DEFERRED, "permission_id" integer NOT NULL REFERENCES "auth_permission" ("id") DEFERRABLE INITIALLY DEFERRED);
CREATE TABLE "auth_permission" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "content_type_id" integer NOT NULL REFERENCES "django_content_type" ("id") DEFERRABLE INITIALLY DEFERRED, "codename" varchar(100) NOT NULL, "name" varchar(255) NOT NULL);
INSERT INTO "auth_permission" VALUES(1,1,'add_logentry','Can add log entry');
INSERT INTO "auth_permission" VALUES(2,1,'change_logentry','Can change log entry');
INSERT INTO "auth_permission" VALUES(3,1,'delete_logentry','Can delete log entry');
INSERT INTO "auth_permission" VALUES(4,1,'view_logentry','Can view log entry');
INSERT INTO "auth_permission" VALUES(5,2,'add_permission','Can add permission');
INSERT INTO "auth_permission" VALUES(6,2,'change_permission','Can change permission');
INSERT INTO "auth_permission" VALUES(7,2,'delete_permission','Can delete permission');
INSERT INTO "auth_permission" VALUES(8,2,'view_permission','Can view permission');
INSERT INTO "auth_permission" VALUES(9,3,'add_group','Can add group');
INSERT INTO "auth_permission" VALUES(10,3,'change_group','Can change group');
INSERT INTO "auth_permission" VALUES(11,3,'delete_group','Can delete group');
INSERT INTO "auth_permission" VALUES(12,3,'view_group','Can view group');
INSERT INTO "auth_permission" VALUES(13,4,'add_user','Can add user');
INSERT INTO "auth_permission" VALUES(14,4,'change_user','Can change user');
INSERT INTO "auth_permission" VALUES(15,4,'delete_user','Can delete user');
INSERT INTO "auth_permission" VALUES(16,4,'view_user','Can view user');
INSERT INTO "auth_permission" VALUES(17,5,'add_contenttype','Can add content type');
INSERT INTO "auth_permission" VALUES(18,5,'change_contenttype','Can change content type');
INSERT INTO "auth_permission" VALUES(19,5,'delete_contenttype','Can delete content type');
INSERT INTO "auth_permission" VALUES(20,5,'view_contenttype','Can view content type');
INSERT INTO "auth_permission" VALUES(21,6,'add_session','Can add session');
INSERT INTO "auth_permission" VALUES(22,6,'change_session','Can change session');
INSERT INTO "auth_permission" VALUES(23,6,'delete_session','Can delete session');
INSERT INTO "auth_permission" VALUES(24,6,'view_session','Can view session');
INSERT INTO "auth_permission" VALUES(25,7,'add_tag','Can add tag');
INSERT INTO "auth_permission" VALUES(26,7,'change_tag','Can change tag');
INSERT INTO "auth_permission" VALUES(27,7,'delete_tag','Can delete tag');
INSERT INTO "auth_permission" VALUES(28,7,'view_tag','Can view tag');
INSERT INTO "auth_permission" VALUES(29,8,'add_apitoken','Can add api token');
INSERT INTO "auth_permission" VALUES(30,8,'change_apitoken','Can change api token');
INSERT INTO "auth_permission" VALUES(31,8,'delete_apitoken','Can delete api token');
INSERT INTO "auth_permission" VALUES(32,8,'view_apitoken','Can view api token');
INSERT INTO "auth_permission" VALUES(33,9,'add_membership','Can add membership');
INSERT INTO "auth_permission" VALUES(34,9,'change_membership','Can change membership');
INSERT INTO "auth_permission" VALUES(35,9,'delete_membership','Can delete membership');
INSERT INTO "auth_permission" VALUES(36,9,'view_membership','Can view membership');
INSERT INTO "auth_permission" VALUES(37,10,'add_team','Can add team');
INSERT INTO "auth_permission" VALUES(38,10,'change_team','Can change team');
INSERT INTO "auth_permission" VALUES(39,10,'delete_team','Can delete team');
INSERT INTO "auth_permission" VALUES(40,10,'view_team','Can view team');
INSERT INTO "auth_permission" VALUES(41,11,'add_asset','Can add asset');
INSERT INTO "auth_permission" VALUES(42,11,'change_asset','Can change asset');
INSERT INTO "auth_permission" VALUES(43,11,'delete_asset','Can delete asset');
INSERT INTO "auth_permission" VALUES(44,11,'view_asset','Can view asset');
INSERT INTO "auth_permission" VALUES(45,12,'add_auditevent','Can add audit event');
INSERT INTO "auth_permission" VALUES(46,12,'change_auditevent','Can change audit event');
INSERT INTO "auth_permission" VALUES(47,12,'delete_auditevent','Can delete audit event');
INSERT INTO "auth_permission" VALUES(48,12,'view_auditevent','Can view audit event');
INSERT INTO "auth_permission" VALUES(49,13,'add_facetcount','Can add facet count');
INSERT INTO "auth_permission" VALUES(50,13,'change_facetcount','Can change facet count');
INSERT INTO "auth_permission" VALUES(51,13,'delete_facetcount','Can delete facet count');
INSERT INTO "auth_permission" VALUES(52,13,'view_facetcount','Can view facet count');
INSERT INTO "auth_permission" VALUES(53,14,'add_searchterm','Can add search term');
INSERT INTO "auth_permission" VALUES(54,14,'change_searchterm','Can change search term');
INSERT INTO "auth_permission" VALUES(55,14,'delete_searchterm','Can delete search term');
INSERT INTO "auth_permission" VALUES(56,14,'view_searchterm','Can view search term');
INSERT INTO "auth_permission" VALUES(57,15,'add_searchstate','Can add search state');
INSERT INTO "auth_permission" VALUES(58,15,'change_searchstate','Can change search state');
INSERT INTO "auth_permission" VALUES(59,15,'delete_searchstate','Can delete search state');
INSERT INTO "auth_permission" VALUES(60,15,'view_searchstate','Can view search state');
INSERT INTO "auth_permission" VALUES(61,16,'add_searchchange','Can add search change');
INSERT INTO "auth_permission" VALUES(62,16,'change_searchchange','Can change search change');
INSERT INTO "auth_permission" VALUES(63,16,'delete_searchchange','Can delete search change');
INSERT INTO "auth_permission" VALUES(64,16,'view_searchchange','Can view search change');
INSERT INTO "auth_permission" VALUES(65,17,'add_blob','Can add blob');
INSERT INTO "auth_permission" VALUES(66,17,'change_blob','Can change blob');
INSERT INTO "auth_permission" VALUES(67,17,'delete_blob','Can delete blob');
INSERT INTO "auth_permission" VALUES(68,17,'view_blob','Can view blob');
INSERT INTO "auth_permission" VALUES(69,18,'add_assetversion','Can add asset version');
INSERT INTO "auth_permission" VALUES(70,18,'change_assetversion','Can change asset version');
INSERT INTO "auth_permission" VALUES(71,18,'delete_assetversion','Can delete asset version');
INSERT INTO "auth_permission" VALUES(72,18,'view_assetversion','Can view asset version');
INSERT INTO "auth_permission" VALUES(73,19,'add_validationreport','Can add validation report');
INSERT INTO "auth_permission" VALUES(74,19,'change_validationreport','Can change validation report');
INSERT INTO "auth_permission" VALUES(75,19,'delete_validationreport','Can delete validation report');
INSERT INTO "auth_permission" VALUES(76,19,'view_validationreport','Can view validation report');
INSERT INTO "auth_permission" VALUES(77,20,'add_versionfile','Can add version file');
INSERT INTO "auth_permission" VALUES(78,20,'change_versionfile','Can change version file');
INSERT INTO "auth_permission" VALUES(79,20,'delete_versionfile','Can delete version file');
INSERT INTO "auth_permission" VALUES(80,20,'view_versionfile','Can view version file');
INSERT INTO "auth_permission" VALUES(81,21,'add_reviewpolicy','Can add review policy');
INSERT INTO "auth_permission" VALUES(82,21,'change_reviewpolicy','Can change review policy');
INSERT INTO "auth_permission" VALUES(83,21,'delete_reviewpolicy','Can delete review policy');
INSERT INTO "auth_permission" VALUES(84,21,'view_reviewpolicy','Can view review policy');
INSERT INTO "auth_permission" VALUES(85,22,'add_reviewround','Can add review round');
INSERT INTO "auth_permission" VALUES(86,22,'change_reviewround','Can change review round');
INSERT INTO "auth_permission" VALUES(87,22,'delete_reviewround','Can delete review round');
INSERT INTO "auth_permission" VALUES(88,22,'view_reviewround','Can view review round');
INSERT INTO "auth_permission" VALUES(89,23,'add_review','Can add review');
INSERT INTO "auth_permission" VALUES(90,23,'change_review','Can change review');
INSERT INTO "auth_permission" VALUES(91,23,'delete_review','Can delete review');
INSERT INTO "auth_permission" VALUES(92,23,'view_review','Can view review');
INSERT INTO "auth_permission" VALUES(93,24,'add_alias','Can add alias');
INSERT INTO "auth_permission" VALUES(94,24,'change_alias','Can change alias');
INSERT INTO "auth_permission" VALUES(95,24,'delete_alias','Can delete alias');
INSERT INTO "auth_permission" VALUES(96,24,'view_alias','Can view alias');
INSERT INTO "auth_permission" VALUES(97,25,'add_versionsignature','Can add version signature');
INSERT INTO "auth_permission" VALUES(98,25,'change_versionsignature','Can change version signature');
INSERT INTO "auth_permission" VALUES(99,25,'delete_versionsignature','Can delete version signature');
INSERT INTO "auth_permission" VALUES(100,25,'view_versionsignature','Can view version signature');
INSERT INTO "auth_permission" VALUES(101,26,'add_modelcard','Can add model card');
INSERT INTO "auth_permission" VALUES(102,26,'change_modelcard','Can change model card');
INSERT INTO "auth_permission" VALUES(103,26,'delete_modelcard','Can delete model card');
INSERT INTO "auth_permission" VALUES(104,26,'view_modelcard','Can view model card');
INSERT INTO "auth_permission" VALUES(105,27,'add_lineageedge','Can add lineage edge');
INSERT INTO "auth_permission" VALUES(106,27,'change_lineageedge','Can change lineage edge');
INSERT INTO "auth_permission" VALUES(107,27,'delete_lineageedge','Can delete lineage edge');
INSERT INTO "auth_permission" VALUES(108,27,'view_lineageedge','Can view lineage edge');
INSERT INTO "auth_permission" VALUES(109,28,'add_webhook','Can add webhook');
INSERT INTO "auth_permission" VALUES(110,28,'change_webhook','Can change webhook');
INSERT INTO "auth_permission" VALUES(111,28,'delete_webhook','Can delete webhook');
INSERT INTO "auth_permission" VALUES(112,28,'view_webhook','Can view webhook');
INSERT INTO "auth_permission" VALUES(113,29,'add_webhookdelivery','Can add webhook delivery');
INSERT INTO "auth_permission" VALUES(114,29,'change_webhookdelivery','Can change webhook delivery');
INSERT INTO "auth_permission" VALUES(115,29,'delete_webhookdelivery','Can delete webhook delivery');
INSERT INTO "auth_permission" VALUES(116,29,'view_webhookdelivery','Can view webhook delivery');
INSERT INTO "auth_permission" VALUES(117,30,'add_endpoint','Can add endpoint');
INSERT INTO "auth_permission" VALUES(118,30,'change_endpoint','Can change endpoint');
INSERT INTO "auth_permission" VALUES(119,30,'delete_endpoint','Can delete endpoint');
INSERT INTO "auth_permission" VALUES(120,30,'view_endpoint','Can view endpoint');
INSERT INTO "auth_permission" VALUES(121,31,'add_endpointkey','Can add endpoint key');
INSERT INTO "auth_permission" VALUES(122,31,'change_endpointkey','Can change endpoint key');
INSERT INTO "auth_permission" VALUES(123,31,'delete_endpointkey','Can delete endpoint key');
INSERT INTO "auth_permission" VALUES(124,31,'view_endpointkey','Can view endpoint key');
CREATE TABLE "auth_user" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "password" varchar(128) NOT NULL, "last_login" datetime NULL, "is_superuser" bool NOT NULL, "username" varchar(150) NOT NULL UNIQUE, "last_name" varchar(150) NOT NULL, "email" varchar(254) NOT NULL, "is_staff" bool NOT NULL, "is_active" bool NOT NULL, "date_joined" datetime NOT NULL, "first_name" varchar(150) NOT NULL);
INSERT INTO "auth_user" VALUES(1,'pbkdf2_sha256$1000000$sqKmpjYuepjLIZbdVqPE1j$bqrhV12smZLinL2Bp0AOEZ+r5e8Uuv4WHOm079EBhKg=',NULL,1,'demo','','demo@example.com',1,1,'2026-12-03 12:42:31.186104','');
INSERT INTO "auth_user" VALUES(2,'pbkdf2_sha256$1000000$xrjPn13jVPEvn8F4zUWj3y$u5YRTIROWa0Walz/ObrRu1VAGKiaG7LhPNaFcmx7EcY=',NULL,0,'reviewer','','reviewer@example.com',0,1,'2026-12-03 12:42:32.274542','');
CREATE TABLE "auth_user_groups" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "user_id" integer NOT NULL REFERENCES "auth_user" ("id") DEFERRABLE INITIALLY DEFERRED, "group_id" integer NOT NULL REFERENCES "auth_group" ("id") DEFERRABLE INITIALLY DEFERRED);
INSERT INTO "auth_user_groups" VALUES(1,2,1);
CREATE TABLE "auth_user_user_permissions" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "user_id" integer NOT NULL REFERENCES "auth_user" ("id") DEFERRABLE INITIALLY DEFERRED, "permission_id" integer NOT NULL REFERENCES "auth_permission" ("id") DEFERRABLE INITIALLY DEFERRED);
CREATE TABLE "django_admin_log" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "object_id" text NULL, "object_repr" varchar(200) NOT NULL, "action_flag" smallint unsigned NOT NULL CHECK ("action_flag" >= 0), "change_message" text NOT NULL, "content_type_id" integer NULL REFERENCES "django_content_type" ("id") DEFERRABLE INITIALLY DEFERRED, "user_id" integer NOT NULL REFERENCES "auth_user" ("id") DEFERRABLE INITIALLY DEFERRED, "action_time" datetime NOT NULL);
CREATE TABLE "django_content_type" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "app_label" varchar(100) NOT NULL, "model" varchar(100) NOT NULL);
INSERT INTO "django_content_type" VALUES(1,'admin','logentry');
INSERT INTO "django_content_type" VALUES(2,'auth','permission');
INSERT INTO "django_content_type" VALUES(3,'auth','group');
INSERT INTO "django_content_type" VALUES(4,'auth','user');
INSERT INTO "django_content_type" VALUES(5,'contenttypes','contenttype');
INSERT INTO "django_content_type" VALUES(6,'sessions','session');
INSERT INTO "django_content_type" VALUES(7,'marketplace','tag');
INSERT INTO "django_content_type" VALUES(8,'marketplace','apitoken');
INSERT INTO "django_content_type" VALUES(9,'marketplace','membership');
INSERT INTO "django_content_type" VALUES(10,'marketplace','team');
INSERT INTO "django_content_type" VALUES(11,'marketplace','asset');
INSERT INTO "django_content_type" VALUES(12,'marketplace','auditevent');
INSERT INTO "django_content_type" VALUES(13,'marketplace','facetcount');
INSERT INTO "django_content_type" VALUES(14,'marketplace','searchterm');
INSERT INTO "django_content_type" VALUES(15,'marketplace','searchstate');
INSERT INTO "django_content_type" VALUES(16,'marketplace','searchchange');
INSERT INTO "django_content_type" VALUES(17,'registry','blob');
INSERT INTO "django_content_type" VALUES(18,'registry','assetversion');
INSERT INTO "django_content_type" VALUES(19,'registry','validationreport');
INSERT INTO "django_content_type" VALUES(20,'registry','versionfile');
INSERT INTO "django_content_type" VALUES(21,'registry','reviewpolicy');
INSERT INTO "django_content_type" VALUES(22,'registry','reviewround');
INSERT INTO "django_content_type" VALUES(23,'registry','review');
INSERT INTO "django_content_type" VALUES(24,'registry','alias');
INSERT INTO "django_content_type" VALUES(25,'registry','versionsignature');
INSERT INTO "django_content_type" VALUES(26,'registry','modelcard');
INSERT INTO "django_content_type" VALUES(27,'registry','lineageedge');
INSERT INTO "django_content_type" VALUES(28,'registry','webhook');
INSERT INTO "django_content_type" VALUES(29,'registry','webhookdelivery');
INSERT INTO "django_content_type" VALUES(30,'registry','endpoint');
INSERT INTO "django_content_type" VALUES(31,'registry','endpointkey');
CREATE TABLE "django_migrations" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "app" varchar(255) NOT NULL, "name" varchar(255) NOT NULL, "applied" datetime NOT NULL);
INSERT INTO "django_migrations" VALUES(1,'contenttypes','0001_initial','2026-12-03 12:42:27.123799');
INSERT INTO "django_migrations" VALUES(2,'auth','0001_initial','2026-12-03 12:42:27.142184');
INSERT INTO "django_migrations" VALUES(3,'admin','0001_initial','2026-12-03 12:42:27.152086');
INSERT INTO "django_migrations" VALUES(4,'admin','0002_logentry_remove_auto_add','2026-12-03 12:42:27.162454');
INSERT INTO "django_migrations" VALUES(5,'admin','0003_logentry_add_action_flag_choices','2026-12-03 12:42:27.171227');
INSERT INTO "django_migrations" VALUES(6,'contenttypes','0002_remove_content_type_name','2026-12-03 12:42:27.190096');
INSERT INTO "django_migrations" VALUES(7,'auth','0002_alter_permission_name_max_length','2026-12-03 12:42:27.206824');
INSERT INTO "django_migrations" VALUES(8,'auth','0003_alter_user_email_max_length','2026-12-03 12:42:27.219876');
INSERT INTO "django_migrations" VALUES(9,'auth','0004_alter_user_username_opts','2026-12-03 12:42:27.229813');
INSERT INTO "django_migrations" VALUES(10,'auth','0005_alter_user_last_login_null','2026-12-03 12:42:27.245183');
INSERT INTO "django_migrations" VALUES(11,'auth','0006_require_contenttypes_0002','2026-12-03 12:42:27.247873');
INSERT INTO "django_migrations" VALUES(12,'auth','0007_alter_validators_add_error_messages','2026-12-03 12:42:27.257506');
INSERT INTO "django_migrations" VALUES(13,'auth','0008_alter_user_username_max_length','2026-12-03 12:42:27.271446');
INSERT INTO "django_migrations" VALUES(14,'auth','0009_alter_user_last_name_max_length','2026-12-03 12:42:27.279155');
INSERT INTO "django_migrations" VALUES(15,'auth','0010_alter_group_name_max_length','2026-12-03 12:42:27.289188');
INSERT INTO "django_migrations" VALUES(16,'auth','0011_update_proxy_permissions','2026-12-03 12:42:27.299355');
INSERT INTO "django_migrations" VALUES(17,'auth','0012_alter_user_first_name_max_length','2026-12-03 12:42:27.312583');
INSERT INTO "django_migrations" VALUES(18,'marketplace','0001_initial','2026-12-03 12:42:27.403101');
INSERT INTO "django_migrations" VALUES(19,'registry','0001_initial','2026-12-03 12:42:27.602645');
INSERT INTO "django_migrations" VALUES(20,'marketplace','0002_asset_search_index','2026-12-03 12:42:27.623773');
INSERT INTO "django_migrations" VALUES(21,'marketplace','0003_catalogue_hardening','2026-12-03 12:42:27.719103');
INSERT INTO "django_migrations" VALUES(22,'marketplace','0004_auditevent_from_registry','2026-12-03 12:42:27.730957');
INSERT INTO "django_migrations" VALUES(23,'registry','0002_version_precedence_audit_moves','2026-12-03 12:42:27.744941');
INSERT INTO "django_migrations" VALUES(24,'registry','0003_governance','2026-12-03 12:42:27.896310');
INSERT INTO "django_migrations" VALUES(25,'registry','0004_version_signature','2026-12-03 12:42:27.916672');
INSERT INTO "django_migrations" VALUES(26,'registry','0005_cards','2026-12-03 12:42:27.936552');
INSERT INTO "django_migrations" VALUES(27,'registry','0006_lineage','2026-12-03 12:42:27.968441');
INSERT INTO "django_migrations" VALUES(28,'marketplace','0005_audit_actions','2026-12-03 12:42:27.988884');
INSERT INTO "django_migrations" VALUES(29,'marketplace','0006_audit_chain','2026-12-03 12:42:28.351775');
INSERT INTO "django_migrations" VALUES(30,'marketplace','0007_audit_more_actions','2026-12-03 12:42:28.369293');
INSERT INTO "django_migrations" VALUES(31,'registry','0007_notifications','2026-12-03 12:42:28.408533');
INSERT INTO "django_migrations" VALUES(32,'marketplace','0008_audit_endpoint_actions','2026-12-03 12:42:28.427756');
INSERT INTO "django_migrations" VALUES(33,'registry','0008_endpoints','2026-12-03 12:42:28.530587');
INSERT INTO "django_migrations" VALUES(34,'registry','0009_version_precedence_index','2026-12-03 12:42:28.537390');
INSERT INTO "django_migrations" VALUES(35,'marketplace','0009_search','2026-12-03 12:42:28.816739');
INSERT INTO "django_migrations" VALUES(36,'marketplace','0010_asset_usage_count','2026-12-03 12:42:28.875773');
INSERT INTO "django_migrations" VALUES(37,'marketplace','0011_asset_status','2026-12-03 12:42:28.930967');
INSERT INTO "django_migrations" VALUES(38,'marketplace','0012_search_change_log','2026-12-03 12:42:28.956969');
INSERT INTO "django_migrations" VALUES(39,'marketplace','0013_search_change_log_prune','2026-12-03 12:42:28.967606');
INSERT INTO "django_migrations" VALUES(40,'sessions','0001_initial','2026-12-03 12:42:28.972545');
CREATE TABLE "django_session" ("session_key" varchar(40) NOT NULL PRIMARY KEY, "session_data" text NOT NULL, "expire_date" datetime NOT NULL);
CREATE TABLE "marketplace_apitoken" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "name" varchar(100) NOT NULL, "prefix" varchar(16) NOT NULL, "key_hash" varchar(64) NOT NULL UNIQUE, "created_at" datetime NOT NULL, "last_used_at" datetime NULL, "revoked_at" datetime NULL, "user_id" integer NOT NULL REFERENCES "auth_user" ("id") DEFERRABLE INITIALLY DEFERRED);
INSERT INTO "marketplace_apitoken" VALUES(1,'upgrade-fixture','mh_O-yFMJ3C','9c9eb401f4e6bd23a73574b28b47fd5dc3dbb1fb7a13ff34496bf60e0147ca08','2026-12-03 12:42:33.795002',NULL,NULL,1);
CREATE TABLE "marketplace_asset" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "kind" varchar(16) NOT NULL, "name" varchar(200) NOT NULL, "slug" varchar(100) NOT NULL, "summary" varchar(300) NOT NULL, "description" text NOT NULL, "license" varchar(64) NOT NULL, "task" varchar(64) NOT NULL, "framework" varchar(64) NOT NULL, "visibility" varchar(16) NOT NULL, "created_at" datetime NOT NULL, "updated_at" datetime NOT NULL, "tags_text" text NOT NULL, "created_by_id" integer NULL REFERENCES "auth_user" ("id") DEFERRABLE INITIALLY DEFERRED, "team_id" bigint NOT NULL REFERENCES "marketplace_team" ("id") DEFERRABLE INITIALLY DEFERRED, "latest_version" varchar(100) NOT NULL, "version_count" integer unsigned NOT NULL CHECK ("version_count" >= 0), "usage_count" integer unsigned DEFAULT 0 NOT NULL CHECK ("usage_count" >= 0), "status" varchar(16) DEFAULT '' NOT NULL, CONSTRAINT "asset_slug_unique_per_team" UNIQUE ("team_id", "slug"));
INSERT INTO "marketplace_asset" VALUES(1,'dataset','Iris','iris','Fisher''s iris flowers: 4 measurements of 150 flowers from 3 species.','# Iris

Fisher''s iris flowers: 4 measurements of 150 flowers from 3 species.

- **Source:** UCI Machine Learning Repository, via scikit-learn''s bundled copy (`sklearn.datasets.load_iris`).
- **Rows:** 150
- **Columns:** 5: the features `sepal_length_cm`, `sepal_width_cm`, `petal_length_cm`, `petal_width_cm`, and `target`, the species: 0 = setosa, 1 = versicolor, 2 = virginica.
- **File:** `iris.csv`, comma-separated with a header row.

## Citation

Fisher, R. A. (1936). The use of multiple measurements in taxonomic problems. Annals of Eugenics, 7(2), 179-188. UCI dataset doi:10.24432/C56C76.
','CC-BY-4.0','tabular-classification','','internal','2026-12-03 12:42:31.726669','2026-12-03 12:42:31.782552','tabular classification botany demo',1,1,'1.0.0',1,0,'validating');
INSERT INTO "marketplace_asset" VALUES(2,'dataset','Wine','wine','Chemical analysis of 178 Italian wines from three cultivars.','# Wine

Chemical analysis of 178 Italian wines from three cultivars.

- **Source:** UCI Machine Learning Repository, via scikit-learn''s bundled copy (`sklearn.datasets.load_wine`).
- **Rows:** 178
- **Columns:** 14: the features `alcohol`, `malic_acid`, `ash`, `alcalinity_of_ash`, `magnesium`, `total_phenols`, `flavanoids`, `nonflavanoid_phenols`, `proanthocyanins`, `color_intensity`, `hue`, `od280_od315_of_diluted_wines`, `proline`, and `target`, the cultivar: 0, 1 or 2.
- **File:** `wine.csv`, comma-separated with a header row.

## Citation

Aeberhard, S. & Forina, M. (1991). Wine [Dataset]. UCI Machine Learning Repository. doi:10.24432/C5PC7J.
','CC-BY-4.0','tabular-classification','','internal','2026-12-03 12:42:31.831361','2026-12-03 12:42:31.850893','tabular classification chemistry demo',1,1,'1.0.0',1,0,'validating');
INSERT INTO "marketplace_asset" VALUES(3,'dataset','Breast Cancer Wisconsin (Diagnostic)','breast-cancer','30 features of cell nuclei from 569 breast mass images, labelled malignant or benign.','# Breast Cancer Wisconsin (Diagnostic)

30 features of cell nuclei from 569 breast mass images, labelled malignant or benign.

- **Source:** UCI Machine Learning Repository, via scikit-learn''s bundled copy (`sklearn.datasets.load_breast_cancer`).
- **Rows:** 569
- **Columns:** 31: the features `mean_radius`, `mean_texture`, `mean_perimeter`, `mean_area`, `mean_smoothness`, `mean_compactness`, `mean_concavity`, `mean_concave_points`, `mean_symmetry`, `mean_fractal_dimension`, `radius_error`, `texture_error`, `perimeter_error`, `area_error`, `smoothness_error`, `compactness_error`, `concavity_error`, `concave_points_error`, `symmetry_error`, `fractal_dimension_error`, `worst_radius`, `worst_texture`, `worst_perimeter`, `worst_area`, `worst_smoothness`, `worst_compactness`, `worst_concavity`, `worst_concave_points`, `worst_symmetry`, `worst_fractal_dimension`, and `target`, the diagnosis: 0 = malignant, 1 = benign.
- **File:** `breast-cancer.csv`, comma-separated with a header row.

## Citation

Wolberg, W., Mangasarian, O., Street, N. & Street, W. (1995). Breast Cancer Wisconsin (Diagnostic) [Dataset]. UCI Machine Learning Repository. doi:10.24432/C5DW2B.
','CC-BY-4.0','tabular-classification','','internal','2026-12-03 12:42:31.871443','2026-12-03 12:42:31.891884','tabular classification medical demo',1,1,'1.0.0',1,0,'validating');
INSERT INTO "marketplace_asset" VALUES(4,'dataset','Diabetes','diabetes','Ten baseline variables of 442 diabetes patients and their disease progression one year later.','# Diabetes

Ten baseline variables of 442 diabetes patients and their disease progression one year later.

- **Source:** Efron et al., distributed with scikit-learn (`sklearn.datasets.load_diabetes`); the ten features are mean-centred and scaled as scikit-learn ships them.
- **Rows:** 442
- **Columns:** 11: the features `age`, `sex`, `bmi`, `bp`, `s1`, `s2`, `s3`, `s4`, `s5`, `s6`, and `target`, a quantitative measure of disease progression one year after baseline.
- **File:** `diabetes.csv`, comma-separated with a header row.

## Citation

Efron, B., Hastie, T., Johnstone, I. & Tibshirani, R. (2004). Least Angle Regression. Annals of Statistics, 32(2), 407-499.
','BSD-3-Clause','tabular-regression','','internal','2026-12-03 12:42:31.919864','2026-12-03 12:42:31.946103','tabular regression medical demo',1,1,'1.0.0',1,0,'validating');
INSERT INTO "marketplace_asset" VALUES(5,'model','Iris logistic regression','iris-logreg','Predicts the iris species from the four flower measurements.','# Iris logistic regression

Predicts the iris species from the four flower measurements.

scikit-learn `LogisticRegression(max_iter=1000)`, trained on [`iris`](/api/v1/assets/demo-lab/iris/) 1.0.0 (75% of the rows, `random_state=0`) and exported to ONNX (opset 17) with skl2onnx.

Held-out accuracy 1.000 on 38 rows.

## Inputs

- `input`: float32 `[batch, 4]`, the features in this order: `sepal_length_cm`, `sepal_width_cm`, `petal_length_cm`, `petal_width_cm`.

## Outputs

- `label`: int64 `[batch]`, the predicted class (0 = setosa, 1 = versicolor, 2 = virginica).
- `probabilities`: float32 `[batch, 3]`, one column per class.
','Apache-2.0','tabular-classification','scikit-learn','internal','2026-12-03 12:42:31.982946','2026-12-03 12:42:32.015279','classification logistic-regression demo',1,1,'1.0.0',1,1,'approved');
INSERT INTO "marketplace_asset" VALUES(6,'model','Wine random forest','wine-random-forest','Predicts a wine''s cultivar from its chemical analysis.','# Wine random forest

Predicts a wine''s cultivar from its chemical analysis.

scikit-learn `RandomForestClassifier(n_estimators=20, max_depth=5)`, trained on [`wine`](/api/v1/assets/demo-lab/wine/) 1.0.0 (75% of the rows, `random_state=0`) and exported to ONNX (opset 17) with skl2onnx.

Held-out accuracy 1.000 on 45 rows.

## Inputs

- `input`: float32 `[batch, 13]`, the features in this order: `alcohol`, `malic_acid`, `ash`, `alcalinity_of_ash`, `magnesium`, `total_phenols`, `flavanoids`, `nonflavanoid_phenols`, `proanthocyanins`, `color_intensity`, `hue`, `od280_od315_of_diluted_wines`, `proline`.

## Outputs

- `label`: int64 `[batch]`, the predicted class (0 = class_0, 1 = class_1, 2 = class_2).
- `probabilities`: float32 `[batch, 3]`, one column per class.
','Apache-2.0','tabular-classification','scikit-learn','internal','2026-12-03 12:42:32.056547','2026-12-03 12:42:32.122960','classification random-forest demo',1,1,'1.0.0',1,0,'in_review');
INSERT INTO "marketplace_asset" VALUES(7,'model','Breast cancer logistic regression','breast-cancer-logreg','Classifies a breast mass as malignant or benign from 30 nucleus features.','# Breast cancer logistic regression

Classifies a breast mass as malignant or benign from 30 nucleus features.

scikit-learn `StandardScaler` followed by `LogisticRegression(max_iter=1000)`, trained on [`breast-cancer`](/api/v1/assets/demo-lab/breast-cancer/) 1.0.0 (75% of the rows, `random_state=0`) and exported to ONNX (opset 17) with skl2onnx.

Held-out accuracy 0.958 on 143 rows.

## Inputs

- `input`: float32 `[batch, 30]`, the features in this order: `mean_radius`, `mean_texture`, `mean_perimeter`, `mean_area`, `mean_smoothness`, `mean_compactness`, `mean_concavity`, `mean_concave_points`, `mean_symmetry`, `mean_fractal_dimension`, `radius_error`, `texture_error`, `perimeter_error`, `area_error`, `smoothness_error`, `compactness_error`, `concavity_error`, `concave_points_error`, `symmetry_error`, `fractal_dimension_error`, `worst_radius`, `worst_texture`, `worst_perimeter`, `worst_area`, `worst_smoothness`, `worst_compactness`, `worst_concavity`, `worst_concave_points`, `worst_symmetry`, `worst_fractal_dimension`.

## Outputs

- `label`: int64 `[batch]`, the predicted class (0 = malignant, 1 = benign).
- `probabilities`: float32 `[batch, 2]`, one column per class.
','Apache-2.0','tabular-classification','scikit-learn','internal','2026-12-03 12:42:32.145186','2026-12-03 12:42:32.171538','classification logistic-regression medical demo',1,1,'1.0.0',1,0,'validating');
INSERT INTO "marketplace_asset" VALUES(8,'model','Diabetes ridge regression','diabetes-ridge','Predicts disease progression one year ahead from ten baseline variables.','# Diabetes ridge regression

Predicts disease progression one year ahead from ten baseline variables.

scikit-learn `Ridge(alpha=1.0)`, trained on [`diabetes`](/api/v1/assets/demo-lab/diabetes/) 1.0.0 (75% of the rows, `random_state=0`) and exported to ONNX (opset 17) with skl2onnx.

Held-out R² 0.357, mean absolute error 44.9 on 111 rows.

## Inputs

- `input`: float32 `[batch, 10]`, the features in this order: `age`, `sex`, `bmi`, `bp`, `s1`, `s2`, `s3`, `s4`, `s5`, `s6`.

## Outputs

- `variable`: float32 `[batch, 1]`, the predicted disease progression.
','Apache-2.0','tabular-regression','scikit-learn','internal','2026-12-03 12:42:32.190122','2026-12-03 12:42:32.219424','regression ridge medical demo',1,1,'1.0.0',1,0,'validating');
INSERT INTO "marketplace_asset" VALUES(9,'solution','Iris quickstart','iris-quickstart','How to download the iris-logreg model and classify flowers with onnxruntime.','# Iris quickstart

Classify iris flowers with the `iris-logreg` model (1.0.0) from Python. This solution is
documentation only: Modelhub stores it and never runs it.

## 1. Download the model

```bash
curl -fL -H "Authorization: Token $MODELHUB_TOKEN" \
     -o iris-logreg.onnx \
     http://127.0.0.1:8000/api/v1/assets/demo-lab/iris-logreg/versions/1.0.0/download
```

Create a token with `python manage.py createtoken <username>`.

## 2. Run it with onnxruntime

```python
import numpy as np
import onnxruntime as ort

session = ort.InferenceSession("iris-logreg.onnx")
# One row per flower: sepal_length_cm, sepal_width_cm, petal_length_cm, petal_width_cm
flowers = np.array([[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]], dtype=np.float32)
label, probabilities = session.run(["label", "probabilities"], {"input": flowers})
species = ["setosa", "versicolor", "virginica"]
for row, p in zip(label, probabilities):
    print(species[row], p.round(3))
```

The input is named `input` (float32, `[batch, 4]`); the outputs are `label` (int64, `[batch]`)
and `probabilities` (float32, `[batch, 3]`). The training data is the `iris` dataset 1.0.0.
','Apache-2.0','tabular-classification','','internal','2026-12-03 12:42:32.237138','2026-12-03 12:42:32.257771','quickstart onnxruntime demo',1,1,'1.0.0',1,0,'validating');
CREATE TABLE "marketplace_asset_tags" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "asset_id" bigint NOT NULL REFERENCES "marketplace_asset" ("id") DEFERRABLE INITIALLY DEFERRED, "tag_id" bigint NOT NULL REFERENCES "marketplace_tag" ("id") DEFERRABLE INITIALLY DEFERRED);
INSERT INTO "marketplace_asset_tags" VALUES(1,1,1);
INSERT INTO "marketplace_asset_tags" VALUES(2,1,2);
INSERT INTO "marketplace_asset_tags" VALUES(3,1,3);
INSERT INTO "marketplace_asset_tags" VALUES(4,1,4);
INSERT INTO "marketplace_asset_tags" VALUES(5,2,1);
INSERT INTO "marketplace_asset_tags" VALUES(6,2,2);
INSERT INTO "marketplace_asset_tags" VALUES(7,2,4);
INSERT INTO "marketplace_asset_tags" VALUES(8,2,5);
INSERT INTO "marketplace_asset_tags" VALUES(9,3,1);
INSERT INTO "marketplace_asset_tags" VALUES(10,3,2);
INSERT INTO "marketplace_asset_tags" VALUES(11,3,4);
INSERT INTO "marketplace_asset_tags" VALUES(12,3,6);
INSERT INTO "marketplace_asset_tags" VALUES(13,4,1);
INSERT INTO "marketplace_asset_tags" VALUES(14,4,4);
INSERT INTO "marketplace_asset_tags" VALUES(15,4,6);
INSERT INTO "marketplace_asset_tags" VALUES(16,4,7);
INSERT INTO "marketplace_asset_tags" VALUES(17,5,8);
INSERT INTO "marketplace_asset_tags" VALUES(18,5,2);
INSERT INTO "marketplace_asset_tags" VALUES(19,5,4);
INSERT INTO "marketplace_asset_tags" VALUES(20,6,9);
INSERT INTO "marketplace_asset_tags" VALUES(21,6,2);
INSERT INTO "marketplace_asset_tags" VALUES(22,6,4);
INSERT INTO "marketplace_asset_tags" VALUES(23,7,8);
INSERT INTO "marketplace_asset_tags" VALUES(24,7,2);
INSERT INTO "marketplace_asset_tags" VALUES(25,7,4);
INSERT INTO "marketplace_asset_tags" VALUES(26,7,6);
INSERT INTO "marketplace_asset_tags" VALUES(27,8,10);
INSERT INTO "marketplace_asset_tags" VALUES(28,8,4);
INSERT INTO "marketplace_asset_tags" VALUES(29,8,6);
INSERT INTO "marketplace_asset_tags" VALUES(30,8,7);
INSERT INTO "marketplace_asset_tags" VALUES(31,9,11);
INSERT INTO "marketplace_asset_tags" VALUES(32,9,12);
INSERT INTO "marketplace_asset_tags" VALUES(33,9,4);
CREATE TABLE "marketplace_facetcount" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "scope" bigint NOT NULL, "filter" varchar(120) NOT NULL, "facet" varchar(16) NOT NULL, "value" varchar(100) NOT NULL, "count" integer NOT NULL, CONSTRAINT "facetcount_unique_key" UNIQUE ("scope", "filter", "facet", "value"));
INSERT INTO "marketplace_facetcount" VALUES(1,0,'','kind','dataset',1);
CREATE TABLE "marketplace_membership" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "role" varchar(16) NOT NULL, "created_at" datetime NOT NULL, "user_id" integer NOT NULL REFERENCES "auth_user" ("id") DEFERRABLE INITIALLY DEFERRED, "team_id" bigint NOT NULL REFERENCES "marketplace_team" ("id") DEFERRABLE INITIALLY DEFERRED, CONSTRAINT "membership_one_per_user_and_team" UNIQUE ("team_id", "user_id"));
INSERT INTO "marketplace_membership" VALUES(1,'maintainer','2026-12-03 12:42:31.573879',1,1);
CREATE TABLE "marketplace_searchchange" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "asset_id" bigint NOT NULL, "xid" bigint NOT NULL);
INSERT INTO "marketplace_searchchange" VALUES(1,3,1);
CREATE TABLE "marketplace_searchstate" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "epoch" varchar(36) NOT NULL, "pruned_below" bigint DEFAULT 0 NOT NULL, "prune_next" bigint DEFAULT 0 NOT NULL);
INSERT INTO "marketplace_searchstate" VALUES(1,'b67e3006-0a58-49e2-a904-9dde94216d29',0,0);
CREATE TABLE "marketplace_searchterm" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "term" varchar(64) NOT NULL UNIQUE);
INSERT INTO "marketplace_searchterm" VALUES(1,'botany');
INSERT INTO "marketplace_searchterm" VALUES(2,'classification');
INSERT INTO "marketplace_searchterm" VALUES(3,'demo');
INSERT INTO "marketplace_searchterm" VALUES(4,'iris');
INSERT INTO "marketplace_searchterm" VALUES(5,'tabular');
INSERT INTO "marketplace_searchterm" VALUES(6,'chemistry');
INSERT INTO "marketplace_searchterm" VALUES(10,'wine');
INSERT INTO "marketplace_searchterm" VALUES(11,'breast');
INSERT INTO "marketplace_searchterm" VALUES(12,'cancer');
INSERT INTO "marketplace_searchterm" VALUES(15,'diagnostic');
INSERT INTO "marketplace_searchterm" VALUES(16,'medical');
INSERT INTO "marketplace_searchterm" VALUES(18,'wisconsin');
INSERT INTO "marketplace_searchterm" VALUES(20,'diabetes');
INSERT INTO "marketplace_searchterm" VALUES(22,'regression');
INSERT INTO "marketplace_searchterm" VALUES(27,'logistic');
INSERT INTO "marketplace_searchterm" VALUES(31,'forest');
INSERT INTO "marketplace_searchterm" VALUES(32,'random');
INSERT INTO "marketplace_searchterm" VALUES(45,'ridge');
INSERT INTO "marketplace_searchterm" VALUES(48,'onnxruntime');
INSERT INTO "marketplace_searchterm" VALUES(49,'quickstart');
CREATE TABLE "marketplace_tag" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "name" varchar(50) NOT NULL UNIQUE);
INSERT INTO "marketplace_tag" VALUES(1,'tabular');
INSERT INTO "marketplace_tag" VALUES(2,'classification');
INSERT INTO "marketplace_tag" VALUES(3,'botany');
INSERT INTO "marketplace_tag" VALUES(4,'demo');
INSERT INTO "marketplace_tag" VALUES(5,'chemistry');
INSERT INTO "marketplace_tag" VALUES(6,'medical');
INSERT INTO "marketplace_tag" VALUES(7,'regression');
INSERT INTO "marketplace_tag" VALUES(8,'logistic-regression');
INSERT INTO "marketplace_tag" VALUES(9,'random-forest');
INSERT INTO "marketplace_tag" VALUES(10,'ridge');
INSERT INTO "marketplace_tag" VALUES(11,'quickstart');
INSERT INTO "marketplace_tag" VALUES(12,'onnxruntime');
CREATE TABLE "marketplace_team" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "name" varchar(100) NOT NULL, "description" text NOT NULL, "created_at" datetime NOT NULL, "slug" varchar(64) NOT NULL UNIQUE);
INSERT INTO "marketplace_team" VALUES(1,'Demo lab','Demo datasets, models and solutions registered by `manage.py seed_demo`.','2026-12-03 12:42:31.573032','demo-lab');
CREATE TABLE "registry_alias" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "name" varchar(64) NOT NULL, "updated_at" datetime NOT NULL, "asset_id" bigint NOT NULL REFERENCES "marketplace_asset" ("id") DEFERRABLE INITIALLY DEFERRED, "updated_by_id" integer NULL REFERENCES "auth_user" ("id") DEFERRABLE INITIALLY DEFERRED, "version_id" bigint NOT NULL REFERENCES "registry_assetversion" ("id") DEFERRABLE INITIALLY DEFERRED, CONSTRAINT "alias_name_unique_per_asset" UNIQUE ("asset_id", "name"));
INSERT INTO "registry_alias" VALUES(1,'production','2026-12-03 12:42:33.403590',5,2,5);
CREATE TABLE "registry_assetversion" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "version" varchar(100) NOT NULL, "major" bigint unsigned NOT NULL CHECK ("major" >= 0), "minor" bigint unsigned NOT NULL CHECK ("minor" >= 0), "patch" bigint unsigned NOT NULL CHECK ("patch" >= 0), "prerelease" varchar(100) NOT NULL, "is_prerelease" bool NOT NULL, "status" varchar(16) NOT NULL, "status_changed_at" datetime NOT NULL, "metadata" text NOT NULL CHECK ((JSON_VALID("metadata") OR "metadata" IS NULL)), "filename" varchar(255) NOT NULL, "sha256" varchar(64) NOT NULL, "size" bigint unsigned NOT NULL CHECK ("size" >= 0), "signature" text NULL CHECK ((JSON_VALID("signature") OR "signature" IS NULL)), "created_at" datetime NOT NULL, "updated_at" datetime NOT NULL, "asset_id" bigint NOT NULL REFERENCES "marketplace_asset" ("id") DEFERRABLE INITIALLY DEFERRED, "created_by_id" integer NULL REFERENCES "auth_user" ("id") DEFERRABLE INITIALLY DEFERRED, "deprecation_reason" text NOT NULL, CONSTRAINT "version_unique_per_asset" UNIQUE ("asset_id", "version"), CONSTRAINT "version_precedence_unique_per_asset" UNIQUE ("asset_id", "major", "minor", "patch", "prerelease"));
INSERT INTO "registry_assetversion" VALUES(1,'1.0.0',1,0,0,'',0,'validating','2026-12-03 12:42:31.778936','{"source": "sklearn.datasets.load_iris", "rows": 150, "features": ["sepal_length_cm", "sepal_width_cm", "petal_length_cm", "petal_width_cm"], "target": "target", "classes": ["setosa", "versicolor", "virginica"]}','iris.csv','311be3789be9e53acd3dbcc38d03a08f1f76239717429d91f48dfaf24b8197a0',2920,NULL,'2026-12-03 12:42:31.779030','2026-12-03 12:42:31.779044',1,1,'');
INSERT INTO "registry_assetversion" VALUES(2,'1.0.0',1,0,0,'',0,'validating','2026-12-03 12:42:31.848312','{"source": "sklearn.datasets.load_wine", "rows": 178, "features": ["alcohol", "malic_acid", "ash", "alcalinity_of_ash", "magnesium", "total_phenols", "flavanoids", "nonflavanoid_phenols", "proanthocyanins", "color_intensity", "hue", "od280_od315_of_diluted_wines", "proline"], "target": "target", "classes": ["class_0", "class_1", "class_2"]}','wine.csv','0ee18636804d9b0623a71b3f7e6d4b53a34eba03821c2db6e525e593a0580723',12440,NULL,'2026-12-03 12:42:31.848395','2026-12-03 12:42:31.848408',2,1,'');
INSERT INTO "registry_assetversion" VALUES(3,'1.0.0',1,0,0,'',0,'validating','2026-12-03 12:42:31.890220','{"source": "sklearn.datasets.load_breast_cancer", "rows": 569, "features": ["mean_radius", "mean_texture", "mean_perimeter", "mean_area", "mean_smoothness", "mean_compactness", "mean_concavity", "mean_concave_points", "mean_symmetry", "mean_fractal_dimension", "radius_error", "texture_error", "perimeter_error", "area_error", "smoothness_error", "compactness_error", "concavity_error", "concave_points_error", "symmetry_error", "fractal_dimension_error", "worst_radius", "worst_texture", "worst_perimeter", "worst_area", "worst_smoothness", "worst_compactness", "worst_concavity", "worst_concave_points", "worst_symmetry", "worst_fractal_dimension"], "target": "target", "classes": ["malignant", "benign"]}','breast-cancer.csv','f2ed900773c616005085756d19c8a5b99ae8c41fe6a4e0aea393f38ab9894254',121955,NULL,'2026-12-03 12:42:31.890282','2026-12-03 12:42:31.890291',3,1,'');
INSERT INTO "registry_assetversion" VALUES(4,'1.0.0',1,0,0,'',0,'validating','2026-12-03 12:42:31.943708','{"source": "sklearn.datasets.load_diabetes", "rows": 442, "features": ["age", "sex", "bmi", "bp", "s1", "s2", "s3", "s4", "s5", "s6"], "target": "target"}','diabetes.csv','628ac10ad7a59a6d9929771095fd50c2e27084b1104a2ea53683b0273f6bf13b',95580,NULL,'2026-12-03 12:42:31.943782','2026-12-03 12:42:31.943795',4,1,'');
INSERT INTO "registry_assetversion" VALUES(5,'1.0.0',1,0,0,'',0,'approved','2026-12-03 12:42:33.008751','{"trained_on": {"asset": "iris", "version": "1.0.0"}, "metrics": {"accuracy": 1.0}, "evaluation": {"test_size": 0.25, "random_state": 0, "test_rows": 38}, "sklearn_version": "1.9.1", "features": ["sepal_length_cm", "sepal_width_cm", "petal_length_cm", "petal_width_cm"], "classes": ["setosa", "versicolor", "virginica"]}','iris-logreg.onnx','d769a22106c0fbc453a2c3a9dcd8d073c695ef0780a7f934055cf4245b88fbca',526,'{"inputs": [{"name": "input", "dtype": "float32", "shape": [null, 4]}], "outputs": [{"name": "label", "dtype": "int64", "shape": [null]}, {"name": "probabilities", "dtype": "float32", "shape": [null, 3]}]}','2026-12-03 12:42:32.013538','2026-12-03 12:42:33.008751',5,1,'');
INSERT INTO "registry_assetversion" VALUES(6,'1.0.0',1,0,0,'',0,'in_review','2026-12-03 12:42:33.786262','{"trained_on": {"asset": "wine", "version": "1.0.0"}, "metrics": {"accuracy": 1.0}, "evaluation": {"test_size": 0.25, "random_state": 0, "test_rows": 45}, "sklearn_version": "1.9.1", "features": ["alcohol", "malic_acid", "ash", "alcalinity_of_ash", "magnesium", "total_phenols", "flavanoids", "nonflavanoid_phenols", "proanthocyanins", "color_intensity", "hue", "od280_od315_of_diluted_wines", "proline"], "classes": ["class_0", "class_1", "class_2"]}','wine-random-forest.onnx','156f174b82e4703dd858aba4c63179d542b33ed450ee4db735026ebb340a4bc3',18176,'{"inputs": [{"name": "input", "dtype": "float32", "shape": [null, 13]}], "outputs": [{"name": "label", "dtype": "int64", "shape": [null]}, {"name": "probabilities", "dtype": "float32", "shape": [null, 3]}]}','2026-12-03 12:42:32.121342','2026-12-03 12:42:33.786262',6,1,'');
INSERT INTO "registry_assetversion" VALUES(7,'1.0.0',1,0,0,'',0,'validating','2026-12-03 12:42:32.169854','{"trained_on": {"asset": "breast-cancer", "version": "1.0.0"}, "metrics": {"accuracy": 0.958}, "evaluation": {"test_size": 0.25, "random_state": 0, "test_rows": 143}, "sklearn_version": "1.9.1", "features": ["mean_radius", "mean_texture", "mean_perimeter", "mean_area", "mean_smoothness", "mean_compactness", "mean_concavity", "mean_concave_points", "mean_symmetry", "mean_fractal_dimension", "radius_error", "texture_error", "perimeter_error", "area_error", "smoothness_error", "compactness_error", "concavity_error", "concave_points_error", "symmetry_error", "fractal_dimension_error", "worst_radius", "worst_texture", "worst_perimeter", "worst_area", "worst_smoothness", "worst_compactness", "worst_concavity", "worst_concave_points", "worst_symmetry", "worst_fractal_dimension"], "classes": ["malignant", "benign"]}','breast-cancer-logreg.onnx','d0d0981b4123b0e590e5384ef67027e2f2ac62979de93caf5f3de38e731d67b5',1036,NULL,'2026-12-03 12:42:32.169935','2026-12-03 12:42:32.169943',7,1,'');
INSERT INTO "registry_assetversion" VALUES(8,'1.0.0',1,0,0,'',0,'validating','2026-12-03 12:42:32.217071','{"trained_on": {"asset": "diabetes", "version": "1.0.0"}, "metrics": {"r2": 0.357, "mae": 44.9227}, "evaluation": {"test_size": 0.25, "random_state": 0, "test_rows": 111}, "sklearn_version": "1.9.1", "features": ["age", "sex", "bmi", "bp", "s1", "s2", "s3", "s4", "s5", "s6"]}','diabetes-ridge.onnx','f22ae8d33f8176d05730e8ddf44bf8599215a347e927fad0b5ef260bfd91370b',283,NULL,'2026-12-03 12:42:32.217168','2026-12-03 12:42:32.217183',8,1,'');
INSERT INTO "registry_assetversion" VALUES(9,'1.0.0',1,0,0,'',0,'validating','2026-12-03 12:42:32.255987','{"uses": [{"asset": "iris-logreg", "version": "1.0.0"}]}','README.md','f31a97c9c796a348303b7826d9f46eb583999ea6f034e9bab52ca6db93f76a89',1144,NULL,'2026-12-03 12:42:32.256040','2026-12-03 12:42:32.256049',9,1,'');
CREATE TABLE "registry_auditevent" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "actor_name" varchar(150) NOT NULL, "action" varchar(64) NOT NULL, "target_type" varchar(64) NOT NULL, "target_id" varchar(64) NOT NULL, "target_repr" varchar(300) NOT NULL, "data" text NOT NULL CHECK ((JSON_VALID("data") OR "data" IS NULL)), "created_at" datetime NOT NULL, "actor_id" integer NULL, "team_id" bigint NULL, "before" text NULL CHECK ((JSON_VALID("before") OR "before" IS NULL)), "after" text NULL CHECK ((JSON_VALID("after") OR "after" IS NULL)), "request_id" varchar(64) NOT NULL, "prev_hash" varchar(64) NOT NULL, "hash" varchar(64) NOT NULL, "seq" bigint unsigned NOT NULL UNIQUE CHECK ("seq" >= 0));
INSERT INTO "registry_auditevent" VALUES(1,'demo','team.create','marketplace.team','1','demo-lab','{"name": "Demo lab"}','2026-12-03 12:42:31.574216',1,1,NULL,NULL,'','0000000000000000000000000000000000000000000000000000000000000000','3ede1255c978061b2a8998cfc960dd680b15e8c54fb5b4fb6a739cccb0b4ec8a',1);
INSERT INTO "registry_auditevent" VALUES(2,'demo','asset.create','marketplace.asset','1','demo-lab/iris','{"kind": "dataset", "visibility": "internal"}','2026-12-03 12:42:31.764088',1,1,NULL,NULL,'','3ede1255c978061b2a8998cfc960dd680b15e8c54fb5b4fb6a739cccb0b4ec8a','1f5f31000976d105f2a25f42e4c28cac73be2f17ecb96d90b9bb11b7a7a2ca0e',2);
INSERT INTO "registry_auditevent" VALUES(3,'demo','version.create','registry.assetversion','1','1@1.0.0','{"asset": "demo-lab/iris", "version": "1.0.0", "sha256": "311be3789be9e53acd3dbcc38d03a08f1f76239717429d91f48dfaf24b8197a0", "size": 2920, "files": 1}','2026-12-03 12:42:31.784032',1,1,NULL,NULL,'','1f5f31000976d105f2a25f42e4c28cac73be2f17ecb96d90b9bb11b7a7a2ca0e','656c641a47b8d9e3dbcecc646cadc00f53ebf0c0b17d69444e1f12677e6c11da',3);
INSERT INTO "registry_auditevent" VALUES(4,'demo','card.update','registry.modelcard','1','card of 1@1.0.0','{"asset": "demo-lab/iris", "version": "1.0.0", "source": "api", "completeness_before": 0, "completeness_after": 66, "sections": ["collection_process", "composition", "distribution", "motivation", "preprocessing"]}','2026-12-03 12:42:31.822736',1,1,NULL,NULL,'','656c641a47b8d9e3dbcecc646cadc00f53ebf0c0b17d69444e1f12677e6c11da','b043792def9ea23047634961ea4c6134d02237d323e8fbbb37042fc9847d33f4',4);
INSERT INTO "registry_auditevent" VALUES(5,'demo','asset.create','marketplace.asset','2','demo-lab/wine','{"kind": "dataset", "visibility": "internal"}','2026-12-03 12:42:31.834941',1,1,NULL,NULL,'','b043792def9ea23047634961ea4c6134d02237d323e8fbbb37042fc9847d33f4','e75d722c77e75e2ebfcdd2e33356e256bc07c4de05397b8f3de3d6f537912284',5);
INSERT INTO "registry_auditevent" VALUES(6,'demo','version.create','registry.assetversion','2','2@1.0.0','{"asset": "demo-lab/wine", "version": "1.0.0", "sha256": "0ee18636804d9b0623a71b3f7e6d4b53a34eba03821c2db6e525e593a0580723", "size": 12440, "files": 1}','2026-12-03 12:42:31.852065',1,1,NULL,NULL,'','e75d722c77e75e2ebfcdd2e33356e256bc07c4de05397b8f3de3d6f537912284','0d8023798c733f9d253b34f77a0192f639142f3b1b0a31e87b615928a9983981',6);
INSERT INTO "registry_auditevent" VALUES(7,'demo','card.update','registry.modelcard','2','card of 2@1.0.0','{"asset": "demo-lab/wine", "version": "1.0.0", "source": "api", "completeness_before": 0, "completeness_after": 66, "sections": ["collection_process", "composition", "distribution", "motivation", "preprocessing"]}','2026-12-03 12:42:31.860042',1,1,NULL,NULL,'','0d8023798c733f9d253b34f77a0192f639142f3b1b0a31e87b615928a9983981','5ea69df3ff0e00d3dc1e2257ddaecf170d886c27af0eee723b3fba8921ab9c9e',7);
INSERT INTO "registry_auditevent" VALUES(8,'demo','asset.create','marketplace.asset','3','demo-lab/breast-cancer','{"kind": "dataset", "visibility": "internal"}','2026-12-03 12:42:31.874250',1,1,NULL,NULL,'','5ea69df3ff0e00d3dc1e2257ddaecf170d886c27af0eee723b3fba8921ab9c9e','85061eca4115b028704b4545d927f8abac83d9d302d040360f6446c187c2223e',8);
INSERT INTO "registry_auditevent" VALUES(9,'demo','version.create','registry.assetversion','3','3@1.0.0','{"asset": "demo-lab/breast-cancer", "version": "1.0.0", "sha256": "f2ed900773c616005085756d19c8a5b99ae8c41fe6a4e0aea393f38ab9894254", "size": 121955, "files": 1}','2026-12-03 12:42:31.892659',1,1,NULL,NULL,'','85061eca4115b028704b4545d927f8abac83d9d302d040360f6446c187c2223e','5310004e7c7c428b67d147721ac2d9310bb7264b1049c087b7d8d83cdf0609ae',9);
INSERT INTO "registry_auditevent" VALUES(10,'demo','card.update','registry.modelcard','3','card of 3@1.0.0','{"asset": "demo-lab/breast-cancer", "version": "1.0.0", "source": "api", "completeness_before": 0, "completeness_after": 66, "sections": ["collection_process", "composition", "distribution", "motivation", "preprocessing"]}','2026-12-03 12:42:31.901182',1,1,NULL,NULL,'','5310004e7c7c428b67d147721ac2d9310bb7264b1049c087b7d8d83cdf0609ae','4f450496ff11f6e94e4a001ef48df533443488b8c362759186babfe2258f27a0',10);
INSERT INTO "registry_auditevent" VALUES(11,'demo','asset.create','marketplace.asset','4','demo-lab/diabetes','{"kind": "dataset", "visibility": "internal"}','2026-12-03 12:42:31.923674',1,1,NULL,NULL,'','4f450496ff11f6e94e4a001ef48df533443488b8c362759186babfe2258f27a0','b89b9873b9ac73f694997bad387e3645cfb2e81ff7a89ce4bf2ec9f2d5a3eef9',11);
INSERT INTO "registry_auditevent" VALUES(12,'demo','version.create','registry.assetversion','4','4@1.0.0','{"asset": "demo-lab/diabetes", "version": "1.0.0", "sha256": "628ac10ad7a59a6d9929771095fd50c2e27084b1104a2ea53683b0273f6bf13b", "size": 95580, "files": 1}','2026-12-03 12:42:31.947237',1,1,NULL,NULL,'','b89b9873b9ac73f694997bad387e3645cfb2e81ff7a89ce4bf2ec9f2d5a3eef9','3a442364329f8302679d35276d219864087e86a1ab4598db3e9c76c8ee561769',12);
INSERT INTO "registry_auditevent" VALUES(13,'demo','card.update','registry.modelcard','4','card of 4@1.0.0','{"asset": "demo-lab/diabetes", "version": "1.0.0", "source": "api", "completeness_before": 0, "completeness_after": 66, "sections": ["collection_process", "composition", "distribution", "motivation", "preprocessing"]}','2026-12-03 12:42:31.955641',1,1,NULL,NULL,'','3a442364329f8302679d35276d219864087e86a1ab4598db3e9c76c8ee561769','662426fc2b53932fc12cb90157c9326ecfc1a9c08a813d9e73ba285564fe295d',13);
INSERT INTO "registry_auditevent" VALUES(14,'demo','asset.create','marketplace.asset','5','demo-lab/iris-logreg','{"kind": "model", "visibility": "internal"}','2026-12-03 12:42:31.986725',1,1,NULL,NULL,'','662426fc2b53932fc12cb90157c9326ecfc1a9c08a813d9e73ba285564fe295d','76fcdeb02faa170876f741ca574cf11f3aceac72b19802377ee7e1b135957aae',14);
INSERT INTO "registry_auditevent" VALUES(15,'demo','version.create','registry.assetversion','5','5@1.0.0','{"asset": "demo-lab/iris-logreg", "version": "1.0.0", "sha256": "d769a22106c0fbc453a2c3a9dcd8d073c695ef0780a7f934055cf4245b88fbca", "size": 526, "files": 1}','2026-12-03 12:42:32.016098',1,1,NULL,NULL,'','76fcdeb02faa170876f741ca574cf11f3aceac72b19802377ee7e1b135957aae','ef2330b298f647fc43edd47c9c1201f17c54a0bb2fe24bb004e72ea8f2cee9ce',15);
INSERT INTO "registry_auditevent" VALUES(16,'demo','lineage.add','registry.lineageedge','1','5 -trained_on-> 1','{"source": "demo-lab/iris-logreg@1.0.0", "target": "demo-lab/iris@1.0.0", "kind": "trained_on"}','2026-12-03 12:42:32.019396',1,1,NULL,NULL,'','ef2330b298f647fc43edd47c9c1201f17c54a0bb2fe24bb004e72ea8f2cee9ce','65042b26e34aad28c23677df27a2fe0435988a0232864fa6f9585e80d43da5f2',16);
INSERT INTO "registry_auditevent" VALUES(17,'demo','card.update','registry.modelcard','5','card of 5@1.0.0','{"asset": "demo-lab/iris-logreg", "version": "1.0.0", "source": "api", "completeness_before": 0, "completeness_after": 63, "sections": ["caveats_and_recommendations", "evaluation_data", "intended_use", "metrics", "model_details", "training_data"]}','2026-12-03 12:42:32.025573',1,1,NULL,NULL,'','65042b26e34aad28c23677df27a2fe0435988a0232864fa6f9585e80d43da5f2','02d0f96e0da3f353e6b680318eeda4ea6f0fa06c5ef45764ef8e907c787410de',17);
INSERT INTO "registry_auditevent" VALUES(18,'demo','asset.create','marketplace.asset','6','demo-lab/wine-random-forest','{"kind": "model", "visibility": "internal"}','2026-12-03 12:42:32.059023',1,1,NULL,NULL,'','02d0f96e0da3f353e6b680318eeda4ea6f0fa06c5ef45764ef8e907c787410de','9bce30e7f3d5c72201b555f2f569c59d1828e542b00d782d48d9c79804a88d69',18);
INSERT INTO "registry_auditevent" VALUES(19,'demo','version.create','registry.assetversion','6','6@1.0.0','{"asset": "demo-lab/wine-random-forest", "version": "1.0.0", "sha256": "156f174b82e4703dd858aba4c63179d542b33ed450ee4db735026ebb340a4bc3", "size": 18176, "files": 1}','2026-12-03 12:42:32.123689',1,1,NULL,NULL,'','9bce30e7f3d5c72201b555f2f569c59d1828e542b00d782d48d9c79804a88d69','c3e6fdc6ec98a407f423dae2c4a18c66d3128224ec940bacdfcd31708ea725a4',19);
INSERT INTO "registry_auditevent" VALUES(20,'demo','lineage.add','registry.lineageedge','2','6 -trained_on-> 2','{"source": "demo-lab/wine-random-forest@1.0.0", "target": "demo-lab/wine@1.0.0", "kind": "trained_on"}','2026-12-03 12:42:32.126445',1,1,NULL,NULL,'','c3e6fdc6ec98a407f423dae2c4a18c66d3128224ec940bacdfcd31708ea725a4','33ffc13dca2a66f6c8cdfd04bbaa2fdbf468f4880a70a0d14fef3357a8f0f442',20);
INSERT INTO "registry_auditevent" VALUES(21,'demo','card.update','registry.modelcard','6','card of 6@1.0.0','{"asset": "demo-lab/wine-random-forest", "version": "1.0.0", "source": "api", "completeness_before": 0, "completeness_after": 63, "sections": ["caveats_and_recommendations", "evaluation_data", "intended_use", "metrics", "model_details", "training_data"]}','2026-12-03 12:42:32.132446',1,1,NULL,NULL,'','33ffc13dca2a66f6c8cdfd04bbaa2fdbf468f4880a70a0d14fef3357a8f0f442','d35111d0a06aaf7d050ce060a3aed29119c99ce5587d11ba04a49c0d45231f45',21);
INSERT INTO "registry_auditevent" VALUES(22,'demo','asset.create','marketplace.asset','7','demo-lab/breast-cancer-logreg','{"kind": "model", "visibility": "internal"}','2026-12-03 12:42:32.147581',1,1,NULL,NULL,'','d35111d0a06aaf7d050ce060a3aed29119c99ce5587d11ba04a49c0d45231f45','8ac30da3ba34d8d76d1ad4374a7ab65447f4bbc25513ed4aaea710978a1ca78e',22);
INSERT INTO "registry_auditevent" VALUES(23,'demo','version.create','registry.assetversion','7','7@1.0.0','{"asset": "demo-lab/breast-cancer-logreg", "version": "1.0.0", "sha256": "d0d0981b4123b0e590e5384ef67027e2f2ac62979de93caf5f3de38e731d67b5", "size": 1036, "files": 1}','2026-12-03 12:42:32.172277',1,1,NULL,NULL,'','8ac30da3ba34d8d76d1ad4374a7ab65447f4bbc25513ed4aaea710978a1ca78e','0de3cce2c0771f55ba3da0327594c64cea1a5607155c4d35501ffb96bb258e37',23);
INSERT INTO "registry_auditevent" VALUES(24,'demo','lineage.add','registry.lineageedge','3','7 -trained_on-> 3','{"source": "demo-lab/breast-cancer-logreg@1.0.0", "target": "demo-lab/breast-cancer@1.0.0", "kind": "trained_on"}','2026-12-03 12:42:32.175059',1,1,NULL,NULL,'','0de3cce2c0771f55ba3da0327594c64cea1a5607155c4d35501ffb96bb258e37','9d3fe146aafe746ee59dc79da4ca3ef6c90f2f2177eb109777390cb9efab8603',24);
INSERT INTO "registry_auditevent" VALUES(25,'demo','card.update','registry.modelcard','7','card of 7@1.0.0','{"asset": "demo-lab/breast-cancer-logreg", "version": "1.0.0", "source": "api", "completeness_before": 0, "completeness_after": 63, "sections": ["caveats_and_recommendations", "evaluation_data", "intended_use", "metrics", "model_details", "training_data"]}','2026-12-03 12:42:32.181843',1,1,NULL,NULL,'','9d3fe146aafe746ee59dc79da4ca3ef6c90f2f2177eb109777390cb9efab8603','f5ced61778e871cece2a6005d2d4608fad8158d172891b75cf25cdc3495916fc',25);
INSERT INTO "registry_auditevent" VALUES(26,'demo','asset.create','marketplace.asset','8','demo-lab/diabetes-ridge','{"kind": "model", "visibility": "internal"}','2026-12-03 12:42:32.193548',1,1,NULL,NULL,'','f5ced61778e871cece2a6005d2d4608fad8158d172891b75cf25cdc3495916fc','37274b26eeedfeb9f6490847c43c94d4c9d510500df9cd82ec95215e33d34c4e',26);
INSERT INTO "registry_auditevent" VALUES(27,'demo','version.create','registry.assetversion','8','8@1.0.0','{"asset": "demo-lab/diabetes-ridge", "version": "1.0.0", "sha256": "f22ae8d33f8176d05730e8ddf44bf8599215a347e927fad0b5ef260bfd91370b", "size": 283, "files": 1}','2026-12-03 12:42:32.220536',1,1,NULL,NULL,'','37274b26eeedfeb9f6490847c43c94d4c9d510500df9cd82ec95215e33d34c4e','935927ccb3777484f0e410af2458ef1cc43eff56249b4a0fb4127f322a499b37',27);
INSERT INTO "registry_auditevent" VALUES(28,'demo','lineage.add','registry.lineageedge','4','8 -trained_on-> 4','{"source": "demo-lab/diabetes-ridge@1.0.0", "target": "demo-lab/diabetes@1.0.0", "kind": "trained_on"}','2026-12-03 12:42:32.224658',1,1,NULL,NULL,'','935927ccb3777484f0e410af2458ef1cc43eff56249b4a0fb4127f322a499b37','b7a7ee49ac95a5c2ac2248a2aed3e4df29dab5fd182a2181744930d98f42ba84',28);
INSERT INTO "registry_auditevent" VALUES(29,'demo','card.update','registry.modelcard','8','card of 8@1.0.0','{"asset": "demo-lab/diabetes-ridge", "version": "1.0.0", "source": "api", "completeness_before": 0, "completeness_after": 63, "sections": ["caveats_and_recommendations", "evaluation_data", "intended_use", "metrics", "model_details", "training_data"]}','2026-12-03 12:42:32.231650',1,1,NULL,NULL,'','b7a7ee49ac95a5c2ac2248a2aed3e4df29dab5fd182a2181744930d98f42ba84','00b4a72dc032b6dcbf23fb05cf172a309f2d8b7ea066e55cabbf049ae37c24fe',29);
INSERT INTO "registry_auditevent" VALUES(30,'demo','asset.create','marketplace.asset','9','demo-lab/iris-quickstart','{"kind": "solution", "visibility": "internal"}','2026-12-03 12:42:32.240729',1,1,NULL,NULL,'','00b4a72dc032b6dcbf23fb05cf172a309f2d8b7ea066e55cabbf049ae37c24fe','f8ff0989ae2d3b2b037ec3503ff667830ba3a61d0d76bf3f2e2d6c6bedcc7c9e',30);
INSERT INTO "registry_auditevent" VALUES(31,'demo','version.create','registry.assetversion','9','9@1.0.0','{"asset": "demo-lab/iris-quickstart", "version": "1.0.0", "sha256": "f31a97c9c796a348303b7826d9f46eb583999ea6f034e9bab52ca6db93f76a89", "size": 1144, "files": 1}','2026-12-03 12:42:32.258542',1,1,NULL,NULL,'','f8ff0989ae2d3b2b037ec3503ff667830ba3a61d0d76bf3f2e2d6c6bedcc7c9e','4e9dc6b1b8cdbbbce6235cd6d548bba345324c85a7797dad135efd517fc1feee',31);
INSERT INTO "registry_auditevent" VALUES(32,'demo','lineage.add','registry.lineageedge','5','9 -uses-> 5','{"source": "demo-lab/iris-quickstart@1.0.0", "target": "demo-lab/iris-logreg@1.0.0", "kind": "uses"}','2026-12-03 12:42:32.261836',1,1,NULL,NULL,'','4e9dc6b1b8cdbbbce6235cd6d548bba345324c85a7797dad135efd517fc1feee','a0b8c88b845dd787774a5d26e8b2613b2fe8dbd1a02e554ff351d9f5b4758a31',32);
INSERT INTO "registry_auditevent" VALUES(33,'demo','card.update','registry.modelcard','9','card of 9@1.0.0','{"asset": "demo-lab/iris-quickstart", "version": "1.0.0", "source": "api", "completeness_before": 0, "completeness_after": 36, "sections": ["intended_use", "model_details"]}','2026-12-03 12:42:32.270748',1,1,NULL,NULL,'','a0b8c88b845dd787774a5d26e8b2613b2fe8dbd1a02e554ff351d9f5b4758a31','3049c31fbdf8f96e939b760477ea0f26e0ea7a022c72ce6b4604e6d510f03ac8',33);
INSERT INTO "registry_auditevent" VALUES(34,'','version.validated','registry.assetversion','5','5@1.0.0','{"reason": "ONNX checker, shape inference, onnxruntime session and smoke inference passed in 0.4 ms.", "failed_check": ""}','2026-12-03 12:42:32.980303',NULL,1,NULL,NULL,'','3049c31fbdf8f96e939b760477ea0f26e0ea7a022c72ce6b4604e6d510f03ac8','5fb0f4618894a5d593fd1dd1e97c63a553437ec7b982173ae257d23459ffb941',34);
INSERT INTO "registry_auditevent" VALUES(35,'demo','version.submit','registry.assetversion','5','5@1.0.0','{"round": 1, "card_completeness": 63, "policy": 1, "approvals_required": 1, "reviewer_groups": ["reviewers"], "forbid_owning_team": true}','2026-12-03 12:42:32.995841',1,1,'{"status": "validated"}','{"status": "in_review"}','','5fb0f4618894a5d593fd1dd1e97c63a553437ec7b982173ae257d23459ffb941','d02e76c764c5278b38e26084712aafc1172a4b55a73f1d5213e2f524308bf650',35);
INSERT INTO "registry_auditevent" VALUES(36,'reviewer','review.submit','registry.assetversion','5','5@1.0.0','{"round": 1, "decision": "approve", "comment": "Card complete, metrics reproduce on the held-out split, licence fine."}','2026-12-03 12:42:33.007100',2,1,NULL,NULL,'','d02e76c764c5278b38e26084712aafc1172a4b55a73f1d5213e2f524308bf650','de0b686aba8fa0fdffbd6baa1b52b1093f4ed270d6f6a0e8bcd68fa6ee39414a',36);
INSERT INTO "registry_auditevent" VALUES(37,'reviewer','version.approved','registry.assetversion','5','5@1.0.0','{"round": 1, "approvers": ["reviewer"]}','2026-12-03 12:42:33.011124',2,1,'{"status": "in_review"}','{"status": "approved"}','','de0b686aba8fa0fdffbd6baa1b52b1093f4ed270d6f6a0e8bcd68fa6ee39414a','f28e18d9ef2ba8aca4b07aae25fcb7905dd0839eb7611cd169b03a967ffa740a',37);
INSERT INTO "registry_auditevent" VALUES(38,'','version.signed','registry.assetversion','5','5@1.0.0','{"key_id": "f00b8d66170b876040f647bce804052a06e330cd2c89400569e41603eed3f866", "round": 1}','2026-12-03 12:42:33.391476',NULL,1,NULL,NULL,'','f28e18d9ef2ba8aca4b07aae25fcb7905dd0839eb7611cd169b03a967ffa740a','216e4f972cf518d0c51e22dade5e578f1a52e940e0fbab31010207116532f807',38);
INSERT INTO "registry_auditevent" VALUES(39,'reviewer','alias.move','marketplace.asset','5','demo-lab/iris-logreg','{"alias": "production"}','2026-12-03 12:42:33.404289',2,1,'{"version": null}','{"version": "1.0.0"}','','216e4f972cf518d0c51e22dade5e578f1a52e940e0fbab31010207116532f807','75a183fd4d62ef370e77666246f782aea1b7a5bdbaa52416bdf2aed274d09a98',39);
INSERT INTO "registry_auditevent" VALUES(40,'','version.validated','registry.assetversion','6','6@1.0.0','{"reason": "ONNX checker, shape inference, onnxruntime session and smoke inference passed in 0.4 ms.", "failed_check": ""}','2026-12-03 12:42:33.773899',NULL,1,NULL,NULL,'','75a183fd4d62ef370e77666246f782aea1b7a5bdbaa52416bdf2aed274d09a98','33582ab2703c3d4a0c597220b725d4c14be1bb2ed617990347f89652fca0f93d',40);
INSERT INTO "registry_auditevent" VALUES(41,'demo','version.submit','registry.assetversion','6','6@1.0.0','{"round": 1, "card_completeness": 63, "policy": 1, "approvals_required": 1, "reviewer_groups": ["reviewers"], "forbid_owning_team": true}','2026-12-03 12:42:33.787543',1,1,'{"status": "validated"}','{"status": "in_review"}','','33582ab2703c3d4a0c597220b725d4c14be1bb2ed617990347f89652fca0f93d','7338cda8f13e54c73ce55d8b8b81bd5194f27fe13624bcbd3b6037d323119937',41);
INSERT INTO "registry_auditevent" VALUES(42,'demo','token.create','marketplace.apitoken','1','mh_O-yFMJ3C… (upgrade-fixture)','{"name": "upgrade-fixture"}','2026-12-03 12:42:33.795685',1,NULL,NULL,NULL,'','7338cda8f13e54c73ce55d8b8b81bd5194f27fe13624bcbd3b6037d323119937','a9b7232022c3dbd68c858272e3352f3c05a290121dd752c1d119080907281745',42);
INSERT INTO "registry_auditevent" VALUES(43,'demo','webhook.create','registry.webhook','1','webhook 1 of 1','{"url": "https://hooks.example.com/modelhub", "events": ["version.approved"]}','2026-12-03 12:42:33.803769',1,1,NULL,NULL,'','a9b7232022c3dbd68c858272e3352f3c05a290121dd752c1d119080907281745','7d8147f38a4d796a263f699bdbc0fba0a6765491f9e652de6fde936cf45ef795',43);
INSERT INTO "registry_auditevent" VALUES(44,'demo','endpoint.create','registry.endpoint','1','endpoint iris-prod','{"name": "iris-prod", "asset": "demo-lab/iris-logreg", "version": "1.0.0", "alias": "production", "settings": {"max_batch_size": 0, "max_batch_delay_ms": 2, "timeout_ms": 30000, "replicas": 1, "memory_limit": 2147483648}, "visibility": "private"}','2026-12-03 12:42:33.834083',1,1,NULL,'{"status": "pending"}','','7d8147f38a4d796a263f699bdbc0fba0a6765491f9e652de6fde936cf45ef795','66190db68873656d5ed6d7ac9ae32e279a35e68cf3f5cd295f6afb85555a3542',44);
CREATE TABLE "registry_blob" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "sha256" varchar(64) NOT NULL UNIQUE, "size" bigint unsigned NOT NULL CHECK ("size" >= 0), "created_at" datetime NOT NULL);
INSERT INTO "registry_blob" VALUES(1,'311be3789be9e53acd3dbcc38d03a08f1f76239717429d91f48dfaf24b8197a0',2920,'2026-12-03 12:42:31.774759');
INSERT INTO "registry_blob" VALUES(2,'0ee18636804d9b0623a71b3f7e6d4b53a34eba03821c2db6e525e593a0580723',12440,'2026-12-03 12:42:31.844700');
INSERT INTO "registry_blob" VALUES(3,'f2ed900773c616005085756d19c8a5b99ae8c41fe6a4e0aea393f38ab9894254',121955,'2026-12-03 12:42:31.887272');
INSERT INTO "registry_blob" VALUES(4,'628ac10ad7a59a6d9929771095fd50c2e27084b1104a2ea53683b0273f6bf13b',95580,'2026-12-03 12:42:31.940024');
INSERT INTO "registry_blob" VALUES(5,'d769a22106c0fbc453a2c3a9dcd8d073c695ef0780a7f934055cf4245b88fbca',526,'2026-12-03 12:42:32.010905');
INSERT INTO "registry_blob" VALUES(6,'156f174b82e4703dd858aba4c63179d542b33ed450ee4db735026ebb340a4bc3',18176,'2026-12-03 12:42:32.118519');
INSERT INTO "registry_blob" VALUES(7,'d0d0981b4123b0e590e5384ef67027e2f2ac62979de93caf5f3de38e731d67b5',1036,'2026-12-03 12:42:32.166723');
INSERT INTO "registry_blob" VALUES(8,'f22ae8d33f8176d05730e8ddf44bf8599215a347e927fad0b5ef260bfd91370b',283,'2026-12-03 12:42:32.213946');
INSERT INTO "registry_blob" VALUES(9,'f31a97c9c796a348303b7826d9f46eb583999ea6f034e9bab52ca6db93f76a89',1144,'2026-12-03 12:42:32.253022');
CREATE TABLE "registry_endpoint" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "name" varchar(63) NOT NULL, "alias" varchar(64) NOT NULL, "status" varchar(16) NOT NULL, "status_reason" text NOT NULL, "status_changed_at" datetime NOT NULL, "settings" text NOT NULL CHECK ((JSON_VALID("settings") OR "settings" IS NULL)), "backend" varchar(16) NOT NULL, "url" varchar(500) NOT NULL, "visibility" varchar(16) NOT NULL, "created_at" datetime NOT NULL, "ready_at" datetime NULL, "error" text NOT NULL, "task_id" varchar(64) NOT NULL, "claimed_at" datetime NULL, "attempts" integer unsigned NOT NULL CHECK ("attempts" >= 0), "created_by_id" integer NULL REFERENCES "auth_user" ("id") DEFERRABLE INITIALLY DEFERRED, "deployed_version_id" bigint NULL REFERENCES "registry_assetversion" ("id") DEFERRABLE INITIALLY DEFERRED, "team_id" bigint NOT NULL REFERENCES "marketplace_team" ("id") DEFERRABLE INITIALLY DEFERRED, "version_id" bigint NOT NULL REFERENCES "registry_assetversion" ("id") DEFERRABLE INITIALLY DEFERRED);
INSERT INTO "registry_endpoint" VALUES(1,'iris-prod','production','pending','','2026-12-03 12:42:33.832493','{"max_batch_size": 0, "max_batch_delay_ms": 2, "timeout_ms": 30000, "replicas": 1, "memory_limit": 2147483648}','local','','private','2026-12-03 12:42:33.832554',NULL,'','',NULL,0,1,NULL,1,5);
CREATE TABLE "registry_endpointkey" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "prefix" varchar(16) NOT NULL, "key_hash" varchar(64) NOT NULL UNIQUE, "created_at" datetime NOT NULL, "revoked_at" datetime NULL, "internal" bool NOT NULL, "created_by_id" integer NULL REFERENCES "auth_user" ("id") DEFERRABLE INITIALLY DEFERRED, "endpoint_id" bigint NOT NULL REFERENCES "registry_endpoint" ("id") DEFERRABLE INITIALLY DEFERRED);
INSERT INTO "registry_endpointkey" VALUES(1,'mhe_FSVXDcRK','293dadbbb672580a9f6ae44bfd66ed62d324a2470aba8cb079b02b365b52f26c','2026-12-03 12:42:33.833575',NULL,0,1,1);
CREATE TABLE "registry_lineageedge" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "kind" varchar(16) NOT NULL, "created_at" datetime NOT NULL, "created_by_id" integer NULL REFERENCES "auth_user" ("id") DEFERRABLE INITIALLY DEFERRED, "source_id" bigint NOT NULL REFERENCES "registry_assetversion" ("id") DEFERRABLE INITIALLY DEFERRED, "target_id" bigint NOT NULL REFERENCES "registry_assetversion" ("id") DEFERRABLE INITIALLY DEFERRED, CONSTRAINT "lineage_edge_unique" UNIQUE ("source_id", "target_id", "kind"), CONSTRAINT "lineage_edge_not_self" CHECK (NOT ("source_id" = ("target_id"))));
INSERT INTO "registry_lineageedge" VALUES(1,'trained_on','2026-12-03 12:42:32.019064',1,5,1);
INSERT INTO "registry_lineageedge" VALUES(2,'trained_on','2026-12-03 12:42:32.126182',1,6,2);
INSERT INTO "registry_lineageedge" VALUES(3,'trained_on','2026-12-03 12:42:32.174806',1,7,3);
INSERT INTO "registry_lineageedge" VALUES(4,'trained_on','2026-12-03 12:42:32.224295',1,8,4);
INSERT INTO "registry_lineageedge" VALUES(5,'uses','2026-12-03 12:42:32.261458',1,9,5);
CREATE TABLE "registry_modelcard" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "sections" text NOT NULL CHECK ((JSON_VALID("sections") OR "sections" IS NULL)), "body" text NOT NULL, "license" varchar(100) NOT NULL, "tags" text NOT NULL CHECK ((JSON_VALID("tags") OR "tags" IS NULL)), "datasets" text NOT NULL CHECK ((JSON_VALID("datasets") OR "datasets" IS NULL)), "metrics" text NOT NULL CHECK ((JSON_VALID("metrics") OR "metrics" IS NULL)), "base_model" text NOT NULL CHECK ((JSON_VALID("base_model") OR "base_model" IS NULL)), "library_name" varchar(100) NOT NULL, "pipeline_tag" varchar(100) NOT NULL, "model_index" text NOT NULL CHECK ((JSON_VALID("model_index") OR "model_index" IS NULL)), "extra" text NOT NULL CHECK ((JSON_VALID("extra") OR "extra" IS NULL)), "created_at" datetime NOT NULL, "updated_at" datetime NOT NULL, "updated_by_id" integer NULL REFERENCES "auth_user" ("id") DEFERRABLE INITIALLY DEFERRED, "version_id" bigint NOT NULL UNIQUE REFERENCES "registry_assetversion" ("id") DEFERRABLE INITIALLY DEFERRED);
INSERT INTO "registry_modelcard" VALUES(1,'{"motivation": "Fisher''s iris flowers: 4 measurements of 150 flowers from 3 species. Bundled with scikit-learn as a teaching dataset.", "composition": "150 rows of 4 numeric features and `target`: the species: 0 = setosa, 1 = versicolor, 2 = virginica.", "collection_process": "See the original publication: Fisher, R. A. (1936). The use of multiple measurements in taxonomic problems. Annals of Eugenics, 7(2), 179-188. UCI dataset doi:10.24432/C56C76.", "preprocessing": "Feature names lower-cased with non-alphanumerics replaced by `_`; values written as the shortest text that reads back as the same float.", "distribution": "UCI Machine Learning Repository, via scikit-learn''s bundled copy (`sklearn.datasets.load_iris`); licence CC-BY-4.0."}','','cc-by-4.0','["tabular", "classification", "botany", "demo"]','[]','[]','[]','','','[]','{}','2026-12-03 12:42:31.821992','2026-12-03 12:42:31.822035',1,1);
INSERT INTO "registry_modelcard" VALUES(2,'{"motivation": "Chemical analysis of 178 Italian wines from three cultivars. Bundled with scikit-learn as a teaching dataset.", "composition": "178 rows of 13 numeric features and `target`: the cultivar: 0, 1 or 2.", "collection_process": "See the original publication: Aeberhard, S. & Forina, M. (1991). Wine [Dataset]. UCI Machine Learning Repository. doi:10.24432/C5PC7J.", "preprocessing": "Feature names lower-cased with non-alphanumerics replaced by `_`; values written as the shortest text that reads back as the same float.", "distribution": "UCI Machine Learning Repository, via scikit-learn''s bundled copy (`sklearn.datasets.load_wine`); licence CC-BY-4.0."}','','cc-by-4.0','["tabular", "classification", "chemistry", "demo"]','[]','[]','[]','','','[]','{}','2026-12-03 12:42:31.859387','2026-12-03 12:42:31.859426',1,2);
INSERT INTO "registry_modelcard" VALUES(3,'{"motivation": "30 features of cell nuclei from 569 breast mass images, labelled malignant or benign. Bundled with scikit-learn as a teaching dataset.", "composition": "569 rows of 30 numeric features and `target`: the diagnosis: 0 = malignant, 1 = benign.", "collection_process": "See the original publication: Wolberg, W., Mangasarian, O., Street, N. & Street, W. (1995). Breast Cancer Wisconsin (Diagnostic) [Dataset]. UCI Machine Learning Repository. doi:10.24432/C5DW2B.", "preprocessing": "Feature names lower-cased with non-alphanumerics replaced by `_`; values written as the shortest text that reads back as the same float.", "distribution": "UCI Machine Learning Repository, via scikit-learn''s bundled copy (`sklearn.datasets.load_breast_cancer`); licence CC-BY-4.0."}','','cc-by-4.0','["tabular", "classification", "medical", "demo"]','[]','[]','[]','','','[]','{}','2026-12-03 12:42:31.900516','2026-12-03 12:42:31.900559',1,3);
INSERT INTO "registry_modelcard" VALUES(4,'{"motivation": "Ten baseline variables of 442 diabetes patients and their disease progression one year later. Bundled with scikit-learn as a teaching dataset.", "composition": "442 rows of 10 numeric features and `target`: a quantitative measure of disease progression one year after baseline.", "collection_process": "See the original publication: Efron, B., Hastie, T., Johnstone, I. & Tibshirani, R. (2004). Least Angle Regression. Annals of Statistics, 32(2), 407-499.", "preprocessing": "Feature names lower-cased with non-alphanumerics replaced by `_`; values written as the shortest text that reads back as the same float.", "distribution": "Efron et al., distributed with scikit-learn (`sklearn.datasets.load_diabetes`); the ten features are mean-centred and scaled as scikit-learn ships them; licence BSD-3-Clause."}','','bsd-3-clause','["tabular", "regression", "medical", "demo"]','[]','[]','[]','','','[]','{}','2026-12-03 12:42:31.955051','2026-12-03 12:42:31.955089',1,4);
INSERT INTO "registry_modelcard" VALUES(5,'{"model_details": "scikit-learn `LogisticRegression(max_iter=1000)`, exported to ONNX opset 17 with skl2onnx.", "intended_use": "Predicts the iris species from the four flower measurements. A teaching example of the Modelhub release flow; not for decisions about people, plants or wine.", "metrics": "Held-out accuracy 1.0 on 38 rows (25% split, random_state=0).", "evaluation_data": "The held-out 25% of `iris`, stratified for classifiers.", "training_data": "`demo-lab/iris` 1.0.0: Fisher''s iris flowers: 4 measurements of 150 flowers from 3 species.", "caveats_and_recommendations": "Small, old, well-studied data: the scores say little about any other population."}','','apache-2.0','["classification", "logistic-regression", "demo"]','["demo-lab/iris"]','[]','[]','onnx','tabular-classification','[]','{}','2026-12-03 12:42:32.025137','2026-12-03 12:42:32.025164',1,5);
INSERT INTO "registry_modelcard" VALUES(6,'{"model_details": "scikit-learn `RandomForestClassifier(n_estimators=20, max_depth=5)`, exported to ONNX opset 17 with skl2onnx.", "intended_use": "Predicts a wine''s cultivar from its chemical analysis. A teaching example of the Modelhub release flow; not for decisions about people, plants or wine.", "metrics": "Held-out accuracy 1.0 on 45 rows (25% split, random_state=0).", "evaluation_data": "The held-out 25% of `wine`, stratified for classifiers.", "training_data": "`demo-lab/wine` 1.0.0: Chemical analysis of 178 Italian wines from three cultivars.", "caveats_and_recommendations": "Small, old, well-studied data: the scores say little about any other population."}','','apache-2.0','["classification", "random-forest", "demo"]','["demo-lab/wine"]','[]','[]','onnx','tabular-classification','[]','{}','2026-12-03 12:42:32.132007','2026-12-03 12:42:32.132033',1,6);
INSERT INTO "registry_modelcard" VALUES(7,'{"model_details": "scikit-learn `StandardScaler` followed by `LogisticRegression(max_iter=1000)`, exported to ONNX opset 17 with skl2onnx.", "intended_use": "Classifies a breast mass as malignant or benign from 30 nucleus features. A teaching example of the Modelhub release flow; not for decisions about people, plants or wine.", "metrics": "Held-out accuracy 0.958 on 143 rows (25% split, random_state=0).", "evaluation_data": "The held-out 25% of `breast-cancer`, stratified for classifiers.", "training_data": "`demo-lab/breast-cancer` 1.0.0: 30 features of cell nuclei from 569 breast mass images, labelled malignant or benign.", "caveats_and_recommendations": "Small, old, well-studied data: the scores say little about any other population."}','','apache-2.0','["classification", "logistic-regression", "medical", "demo"]','["demo-lab/breast-cancer"]','[]','[]','onnx','tabular-classification','[]','{}','2026-12-03 12:42:32.181296','2026-12-03 12:42:32.181325',1,7);
INSERT INTO "registry_modelcard" VALUES(8,'{"model_details": "scikit-learn `Ridge(alpha=1.0)`, exported to ONNX opset 17 with skl2onnx.", "intended_use": "Predicts disease progression one year ahead from ten baseline variables. A teaching example of the Modelhub release flow; not for decisions about people, plants or wine.", "metrics": "Held-out r2 0.357, mae 44.9227 on 111 rows (25% split, random_state=0).", "evaluation_data": "The held-out 25% of `diabetes`, stratified for classifiers.", "training_data": "`demo-lab/diabetes` 1.0.0: Ten baseline variables of 442 diabetes patients and their disease progression one year later.", "caveats_and_recommendations": "Small, old, well-studied data: the scores say little about any other population."}','','apache-2.0','["regression", "ridge", "medical", "demo"]','["demo-lab/diabetes"]','[]','[]','onnx','tabular-regression','[]','{}','2026-12-03 12:42:32.231161','2026-12-03 12:42:32.231189',1,8);
INSERT INTO "registry_modelcard" VALUES(9,'{"model_details": "Uses `demo-lab/iris-logreg` 1.0.0; documentation only, never run.", "intended_use": "Getting started with the iris-logreg model from Python and onnxruntime."}','# Iris quickstart

Classify iris flowers with the `iris-logreg` model (1.0.0) from Python. This solution is
documentation only: Modelhub stores it and never runs it.

## 1. Download the model

```bash
curl -fL -H "Authorization: Token $MODELHUB_TOKEN" \
     -o iris-logreg.onnx \
     http://127.0.0.1:8000/api/v1/assets/demo-lab/iris-logreg/versions/1.0.0/download
```

Create a token with `python manage.py createtoken <username>`.

## 2. Run it with onnxruntime

```python
import numpy as np
import onnxruntime as ort

session = ort.InferenceSession("iris-logreg.onnx")
# One row per flower: sepal_length_cm, sepal_width_cm, petal_length_cm, petal_width_cm
flowers = np.array([[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]], dtype=np.float32)
label, probabilities = session.run(["label", "probabilities"], {"input": flowers})
species = ["setosa", "versicolor", "virginica"]
for row, p in zip(label, probabilities):
    print(species[row], p.round(3))
```

The input is named `input` (float32, `[batch, 4]`); the outputs are `label` (int64, `[batch]`)
and `probabilities` (float32, `[batch, 3]`). The training data is the `iris` dataset 1.0.0.','apache-2.0','[]','[]','[]','[]','','','[]','{}','2026-12-03 12:42:32.270108','2026-12-03 12:42:32.270142',1,9);
CREATE TABLE "registry_review" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "decision" varchar(16) NOT NULL, "comment" text NOT NULL, "created_at" datetime NOT NULL, "reviewer_id" integer NOT NULL REFERENCES "auth_user" ("id") DEFERRABLE INITIALLY DEFERRED, "round_id" bigint NOT NULL REFERENCES "registry_reviewround" ("id") DEFERRABLE INITIALLY DEFERRED, CONSTRAINT "one_review_per_reviewer_and_round" UNIQUE ("round_id", "reviewer_id"));
INSERT INTO "registry_review" VALUES(1,'approve','Card complete, metrics reproduce on the held-out split, licence fine.','2026-12-03 12:42:33.006475',2,1);
CREATE TABLE "registry_reviewpolicy" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "approvals_required" smallint unsigned NOT NULL CHECK ("approvals_required" >= 0), "forbid_owning_team" bool NOT NULL, "min_card_completeness" smallint unsigned NOT NULL CHECK ("min_card_completeness" >= 0), "protected_aliases" text NOT NULL CHECK ((JSON_VALID("protected_aliases") OR "protected_aliases" IS NULL)), "updated_at" datetime NOT NULL, "team_id" bigint NULL UNIQUE REFERENCES "marketplace_team" ("id") DEFERRABLE INITIALLY DEFERRED, CONSTRAINT "review_policy_approvals_positive" CHECK ("approvals_required" >= 1));
INSERT INTO "registry_reviewpolicy" VALUES(1,1,1,50,'["production"]','2026-12-03 12:42:27.895662',NULL);
CREATE TABLE "registry_reviewpolicy_reviewer_groups" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "reviewpolicy_id" bigint NOT NULL REFERENCES "registry_reviewpolicy" ("id") DEFERRABLE INITIALLY DEFERRED, "group_id" integer NOT NULL REFERENCES "auth_group" ("id") DEFERRABLE INITIALLY DEFERRED);
INSERT INTO "registry_reviewpolicy_reviewer_groups" VALUES(1,1,1);
CREATE TABLE "registry_reviewround" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "number" integer unsigned NOT NULL CHECK ("number" >= 0), "status" varchar(24) NOT NULL, "submitted_at" datetime NOT NULL, "note" text NOT NULL, "closed_at" datetime NULL, "approvals_required" smallint unsigned NOT NULL CHECK ("approvals_required" >= 0), "forbid_owning_team" bool NOT NULL, "policy_id" bigint NULL REFERENCES "registry_reviewpolicy" ("id") DEFERRABLE INITIALLY DEFERRED, "submitted_by_id" integer NULL REFERENCES "auth_user" ("id") DEFERRABLE INITIALLY DEFERRED, "version_id" bigint NOT NULL REFERENCES "registry_assetversion" ("id") DEFERRABLE INITIALLY DEFERRED, CONSTRAINT "review_round_number_unique" UNIQUE ("version_id", "number"));
INSERT INTO "registry_reviewround" VALUES(1,1,'approved','2026-12-03 12:42:32.992740','First release of the iris classifier.','2026-12-03 12:42:33.009910',1,1,1,1,5);
INSERT INTO "registry_reviewround" VALUES(2,1,'open','2026-12-03 12:42:33.784684','Ready for review.',NULL,1,1,1,1,6);
CREATE TABLE "registry_reviewround_reviewer_groups" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "reviewround_id" bigint NOT NULL REFERENCES "registry_reviewround" ("id") DEFERRABLE INITIALLY DEFERRED, "group_id" integer NOT NULL REFERENCES "auth_group" ("id") DEFERRABLE INITIALLY DEFERRED);
INSERT INTO "registry_reviewround_reviewer_groups" VALUES(1,1,1);
INSERT INTO "registry_reviewround_reviewer_groups" VALUES(2,2,1);
CREATE TABLE "registry_validationreport" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "outcome" varchar(16) NOT NULL, "failed_check" varchar(32) NOT NULL, "reason" text NOT NULL, "details" text NOT NULL CHECK ((JSON_VALID("details") OR "details" IS NULL)), "attempts" integer unsigned NOT NULL CHECK ("attempts" >= 0), "task_id" varchar(64) NOT NULL, "claimed_at" datetime NULL, "started_at" datetime NULL, "finished_at" datetime NULL, "version_id" bigint NOT NULL UNIQUE REFERENCES "registry_assetversion" ("id") DEFERRABLE INITIALLY DEFERRED);
INSERT INTO "registry_validationreport" VALUES(1,'pending','','','{}',0,'',NULL,NULL,NULL,1);
INSERT INTO "registry_validationreport" VALUES(2,'pending','','','{}',0,'',NULL,NULL,NULL,2);
INSERT INTO "registry_validationreport" VALUES(3,'pending','','','{}',0,'',NULL,NULL,NULL,3);
INSERT INTO "registry_validationreport" VALUES(4,'pending','','','{}',0,'',NULL,NULL,NULL,4);
INSERT INTO "registry_validationreport" VALUES(5,'passed','','ONNX checker, shape inference, onnxruntime session and smoke inference passed in 0.4 ms.','{"ir_version": 8, "opset_imports": {"ai.onnx.ml": 1, "ai.onnx": 17}, "producer_name": "skl2onnx", "producer_version": "1.20.0", "graph_name": "ONNX(LogisticRegression)", "inputs": [{"name": "input", "dtype": "float32", "shape": [null, 4]}], "outputs": [{"name": "label", "dtype": "int64", "shape": [null]}, {"name": "probabilities", "dtype": "float32", "shape": [null, 3]}], "inputs_total": 1, "outputs_total": 2, "operator_counts": {"ai.onnx.ml::LinearClassifier": 1, "ai.onnx.ml::Normalizer": 1}, "operators_total": 2, "parameter_count": 0, "files": [{"path": "iris-logreg.onnx", "size": 526}], "files_total": 1, "model_size_bytes": 526, "smoke_inference": {"seconds": 0.0004132839999897442, "outputs": [{"name": "label", "dtype": "int64", "shape": [1]}, {"name": "probabilities", "dtype": "float32", "shape": [1, 3]}]}, "doc_string": ""}',1,'seed-demo','2026-12-03 12:42:32.654714','2026-12-03 12:42:32.654714','2026-12-03 12:42:32.973429',5);
INSERT INTO "registry_validationreport" VALUES(6,'passed','','ONNX checker, shape inference, onnxruntime session and smoke inference passed in 0.4 ms.','{"ir_version": 8, "opset_imports": {"ai.onnx.ml": 1, "ai.onnx": 17}, "producer_name": "skl2onnx", "producer_version": "1.20.0", "graph_name": "ONNX(RandomForestClassifier)", "inputs": [{"name": "input", "dtype": "float32", "shape": [null, 13]}], "outputs": [{"name": "label", "dtype": "int64", "shape": [null]}, {"name": "probabilities", "dtype": "float32", "shape": [null, 3]}], "inputs_total": 1, "outputs_total": 2, "operator_counts": {"ai.onnx.ml::TreeEnsembleClassifier": 1}, "operators_total": 1, "parameter_count": 0, "files": [{"path": "wine-random-forest.onnx", "size": 18176}], "files_total": 1, "model_size_bytes": 18176, "smoke_inference": {"seconds": 0.0003701699999965058, "outputs": [{"name": "label", "dtype": "int64", "shape": [1]}, {"name": "probabilities", "dtype": "float32", "shape": [1, 3]}]}, "doc_string": ""}',1,'seed-demo','2026-12-03 12:42:33.416275','2026-12-03 12:42:33.416275','2026-12-03 12:42:33.768133',6);
INSERT INTO "registry_validationreport" VALUES(7,'pending','','','{}',0,'',NULL,NULL,NULL,7);
INSERT INTO "registry_validationreport" VALUES(8,'pending','','','{}',0,'',NULL,NULL,NULL,8);
INSERT INTO "registry_validationreport" VALUES(9,'pending','','','{}',0,'',NULL,NULL,NULL,9);
CREATE TABLE "registry_versionfile" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "path" varchar(255) NOT NULL, "is_primary" bool NOT NULL, "blob_id" bigint NOT NULL REFERENCES "registry_blob" ("id") DEFERRABLE INITIALLY DEFERRED, "version_id" bigint NOT NULL REFERENCES "registry_assetversion" ("id") DEFERRABLE INITIALLY DEFERRED, CONSTRAINT "version_file_unique_path" UNIQUE ("version_id", "path"));
INSERT INTO "registry_versionfile" VALUES(1,'iris.csv',1,1,1);
INSERT INTO "registry_versionfile" VALUES(2,'wine.csv',1,2,2);
INSERT INTO "registry_versionfile" VALUES(3,'breast-cancer.csv',1,3,3);
INSERT INTO "registry_versionfile" VALUES(4,'diabetes.csv',1,4,4);
INSERT INTO "registry_versionfile" VALUES(5,'iris-logreg.onnx',1,5,5);
INSERT INTO "registry_versionfile" VALUES(6,'wine-random-forest.onnx',1,6,6);
INSERT INTO "registry_versionfile" VALUES(7,'breast-cancer-logreg.onnx',1,7,7);
INSERT INTO "registry_versionfile" VALUES(8,'diabetes-ridge.onnx',1,8,8);
INSERT INTO "registry_versionfile" VALUES(9,'README.md',1,9,9);
CREATE TABLE "registry_versionsignature" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "bundle" text NOT NULL, "approval" text NOT NULL, "key_id" varchar(64) NOT NULL, "signed_at" datetime NOT NULL, "version_id" bigint NOT NULL UNIQUE REFERENCES "registry_assetversion" ("id") DEFERRABLE INITIALLY DEFERRED);
INSERT INTO "registry_versionsignature" VALUES(1,'{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json","verificationMaterial":{"publicKey":{"hint":"9934a6d6d779fc3d50a61dcb2ffc6827d1019a88ccfdcf51a1ac6fc826df2eda"},"tlogEntries":[]},"dsseEnvelope":{"payload":"ewogICJfdHlwZSI6ICJodHRwczovL2luLXRvdG8uaW8vU3RhdGVtZW50L3YxIiwKICAic3ViamVjdCI6IFsKICAgIHsKICAgICAgIm5hbWUiOiAidmVyc2lvbiIsCiAgICAgICJkaWdlc3QiOiB7CiAgICAgICAgInNoYTI1NiI6ICI2YTllMjQ1MDVlNmNkMWJmMmZjNTVhMzBiOTg5OTIzN2Y0YjI5YzI0NTNhZmU3ODFjOTM1N2Y1ODVjNGNlMmExIgogICAgICB9CiAgICB9CiAgXSwKICAicHJlZGljYXRlVHlwZSI6ICJodHRwczovL21vZGVsX3NpZ25pbmcvc2lnbmF0dXJlL3YxLjAiLAogICJwcmVkaWNhdGUiOiB7CiAgICAicmVzb3VyY2VzIjogWwogICAgICB7CiAgICAgICAgIm5hbWUiOiAiaXJpcy1sb2dyZWcub25ueCIsCiAgICAgICAgImFsZ29yaXRobSI6ICJzaGEyNTYiLAogICAgICAgICJkaWdlc3QiOiAiZDc2OWEyMjEwNmMwZmJjNDUzYTJjM2E5ZGNkOGQwNzNjNjk1ZWYwNzgwYTdmOTM0MDU1Y2Y0MjQ1Yjg4ZmJjYSIKICAgICAgfSwKICAgICAgewogICAgICAgICJuYW1lIjogIm1vZGVsaHViLWFwcHJvdmFsLmpzb24iLAogICAgICAgICJhbGdvcml0aG0iOiAic2hhMjU2IiwKICAgICAgICAiZGlnZXN0IjogImM4NTc5OGM5MmRiMzVhMWZlY2ExNGFiYWIwMzdlOWE3NzExNDU4YzNhYTMyYmE2ODNkNGQ5NDVhYTI5MDc2YjgiCiAgICAgIH0KICAgIF0sCiAgICAic2VyaWFsaXphdGlvbiI6IHsKICAgICAgIm1ldGhvZCI6ICJmaWxlcyIsCiAgICAgICJoYXNoX3R5cGUiOiAic2hhMjU2IiwKICAgICAgImFsbG93X3N5bWxpbmtzIjogZmFsc2UsCiAgICAgICJpZ25vcmVfcGF0aHMiOiBbCiAgICAgICAgIi5naXRodWIiLAogICAgICAgICIuZ2l0IiwKICAgICAgICAiLmdpdGlnbm9yZSIsCiAgICAgICAgIi5naXRhdHRyaWJ1dGVzIgogICAgICBdCiAgICB9CiAgfQp9","payloadType":"application/vnd.in-toto+json","signatures":[{"sig":"MEYCIQCYD9WFAYoTEPASIFVM6KKZWhlmjYf+tWr+ahau2FhECAIhAJBT4Is2ENeyfYWSaDm/CgUpcctU6HtIl6IRZcuqK9fV","keyid":""}]}}','{
  "_type": "https://modelhub.dev/approval/v1",
  "approved_at": "2026-12-03T12:42:33.009910+00:00",
  "approvers": [
    {
      "at": "2026-12-03T12:42:33.006475+00:00",
      "comment": "Card complete, metrics reproduce on the held-out split, licence fine.",
      "username": "reviewer"
    }
  ],
  "asset": "demo-lab/iris-logreg",
  "card": "---\nlicense: apache-2.0\nlibrary_name: onnx\npipeline_tag: tabular-classification\ndatasets:\n- demo-lab/iris\ntags:\n- classification\n- logistic-regression\n- demo\n---\n\n## Model details\n\nscikit-learn `LogisticRegression(max_iter=1000)`, exported to ONNX opset 17 with skl2onnx.\n\n## Intended use\n\nPredicts the iris species from the four flower measurements. A teaching example of the Modelhub release flow; not for decisions about people, plants or wine.\n\n## Metrics\n\nHeld-out accuracy 1.0 on 38 rows (25% split, random_state=0).\n\n## Evaluation data\n\nThe held-out 25% of `iris`, stratified for classifiers.\n\n## Training data\n\n`demo-lab/iris` 1.0.0: Fisher''s iris flowers: 4 measurements of 150 flowers from 3 species.\n\n## Caveats and recommendations\n\nSmall, old, well-studied data: the scores say little about any other population.\n",
  "files": {
    "iris-logreg.onnx": {
      "sha256": "d769a22106c0fbc453a2c3a9dcd8d073c695ef0780a7f934055cf4245b88fbca",
      "size": 526
    }
  },
  "policy": {
    "approvals_required": 1,
    "forbid_owning_team": true,
    "id": 1,
    "reviewer_groups": [
      "reviewers"
    ]
  },
  "review_round": 1,
  "submitted_by": "demo",
  "version": "1.0.0"
}
','f00b8d66170b876040f647bce804052a06e330cd2c89400569e41603eed3f866','2026-12-03 12:42:33.390471',5);
CREATE TABLE "registry_webhook" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "url" varchar(2000) NOT NULL, "events" text NOT NULL CHECK ((JSON_VALID("events") OR "events" IS NULL)), "secret_encrypted" text NOT NULL, "secret_prefix" varchar(16) NOT NULL, "active" bool NOT NULL, "created_at" datetime NOT NULL, "created_by_id" integer NULL REFERENCES "auth_user" ("id") DEFERRABLE INITIALLY DEFERRED, "team_id" bigint NOT NULL REFERENCES "marketplace_team" ("id") DEFERRABLE INITIALLY DEFERRED);
INSERT INTO "registry_webhook" VALUES(1,'https://hooks.example.com/modelhub','["version.approved"]','gAAAAABrEWO599Z9lXAlsCsCCSopc0Jm9w3WkLa6PQRORYDDe_nFd4PYDF_eS6VzFkDXfh0A6pwJ9Xz4ANAHyzQ8TvkafoeVxR3Ow__8lIt4n03o77CE64bOJUFCNfT8k0YMigf6s3ZQr-DBkGIkS9XeEn-Y4-tSjQ==','whsec_49NV',1,'2026-12-03 12:42:33.802935',1,1);
CREATE TABLE "registry_webhookdelivery" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "event" varchar(32) NOT NULL, "payload" text NOT NULL CHECK ((JSON_VALID("payload") OR "payload" IS NULL)), "status" varchar(16) NOT NULL, "attempts" integer unsigned NOT NULL CHECK ("attempts" >= 0), "last_status_code" integer unsigned NULL CHECK ("last_status_code" >= 0), "last_error" varchar(1000) NOT NULL, "response_ms" integer unsigned NULL CHECK ("response_ms" >= 0), "created_at" datetime NOT NULL, "delivered_at" datetime NULL, "next_attempt_at" datetime NULL, "webhook_id" bigint NOT NULL REFERENCES "registry_webhook" ("id") DEFERRABLE INITIALLY DEFERRED);
INSERT INTO "registry_webhookdelivery" VALUES(1,'ping','{"webhook": 1, "team": "demo-lab", "actor": "demo"}','pending',0,NULL,'',NULL,'2026-12-03 12:42:33.806818',NULL,'2026-12-03 12:42:33.806427',1);
CREATE UNIQUE INDEX "auth_group_permissions_group_id_permission_id_0cd325b0_uniq" ON "auth_group_permissions" ("group_id", "permission_id");
CREATE INDEX "auth_group_permissions_group_id_b120cbf9" ON "auth_group_permissions" ("group_id");
CREATE INDEX "auth_group_permissions_permission_id_84c5c92e" ON "auth_group_permissions" ("permission_id");
CREATE UNIQUE INDEX "auth_user_groups_user_id_group_id_94350c0c_uniq" ON "auth_user_groups" ("user_id", "group_id");
CREATE INDEX "auth_user_groups_user_id_6a12ed8b" ON "auth_user_groups" ("user_id");
CREATE INDEX "auth_user_groups_group_id_97559544" ON "auth_user_groups" ("group_id");
CREATE UNIQUE INDEX "auth_user_user_permissions_user_id_permission_id_14a6b632_uniq" ON "auth_user_user_permissions" ("user_id", "permission_id");
CREATE INDEX "auth_user_user_permissions_user_id_a95ead1b" ON "auth_user_user_permissions" ("user_id");
CREATE INDEX "auth_user_user_permissions_permission_id_1fbb5f2c" ON "auth_user_user_permissions" ("permission_id");
CREATE INDEX "django_admin_log_content_type_id_c4bce8eb" ON "django_admin_log" ("content_type_id");
CREATE INDEX "django_admin_log_user_id_c564eba6" ON "django_admin_log" ("user_id");
CREATE UNIQUE INDEX "django_content_type_app_label_model_76bd3d3b_uniq" ON "django_content_type" ("app_label", "model");
CREATE UNIQUE INDEX "auth_permission_content_type_id_codename_01ab375a_uniq" ON "auth_permission" ("content_type_id", "codename");
CREATE INDEX "auth_permission_content_type_id_2f476e4b" ON "auth_permission" ("content_type_id");
CREATE INDEX "marketplace_apitoken_user_id_98076edf" ON "marketplace_apitoken" ("user_id");
CREATE UNIQUE INDEX "marketplace_asset_tags_asset_id_tag_id_6e01e8e2_uniq" ON "marketplace_asset_tags" ("asset_id", "tag_id");
CREATE INDEX "marketplace_asset_tags_asset_id_f29d625d" ON "marketplace_asset_tags" ("asset_id");
CREATE INDEX "marketplace_asset_tags_tag_id_fd6b793f" ON "marketplace_asset_tags" ("tag_id");
CREATE INDEX "marketplace_membership_user_id_6ebcaf47" ON "marketplace_membership" ("user_id");
CREATE INDEX "marketplace_membership_team_id_ac3f9f3f" ON "marketplace_membership" ("team_id");
CREATE INDEX "registry_versionfile_blob_id_e7d2a692" ON "registry_versionfile" ("blob_id");
CREATE INDEX "registry_versionfile_version_id_cb42439b" ON "registry_versionfile" ("version_id");
CREATE INDEX "registry_assetversion_asset_id_a71b4935" ON "registry_assetversion" ("asset_id");
CREATE INDEX "registry_assetversion_created_by_id_07b05db7" ON "registry_assetversion" ("created_by_id");
CREATE INDEX "version_status_idx" ON "registry_assetversion" ("status");
CREATE UNIQUE INDEX "registry_reviewpolicy_reviewer_groups_reviewpolicy_id_group_id_c30a82dd_uniq" ON "registry_reviewpolicy_reviewer_groups" ("reviewpolicy_id", "group_id");
CREATE INDEX "registry_reviewpolicy_reviewer_groups_reviewpolicy_id_0d7bcc81" ON "registry_reviewpolicy_reviewer_groups" ("reviewpolicy_id");
CREATE INDEX "registry_reviewpolicy_reviewer_groups_group_id_30b87619" ON "registry_reviewpolicy_reviewer_groups" ("group_id");
CREATE UNIQUE INDEX "registry_reviewround_reviewer_groups_reviewround_id_group_id_aea89a1b_uniq" ON "registry_reviewround_reviewer_groups" ("reviewround_id", "group_id");
CREATE INDEX "registry_reviewround_reviewer_groups_reviewround_id_a6a1de09" ON "registry_reviewround_reviewer_groups" ("reviewround_id");
CREATE INDEX "registry_reviewround_reviewer_groups_group_id_44cd885d" ON "registry_reviewround_reviewer_groups" ("group_id");
CREATE INDEX "registry_alias_asset_id_64f13ff1" ON "registry_alias" ("asset_id");
CREATE INDEX "registry_alias_updated_by_id_617a4575" ON "registry_alias" ("updated_by_id");
CREATE INDEX "registry_alias_version_id_0e294b7f" ON "registry_alias" ("version_id");
CREATE UNIQUE INDEX "one_review_policy_per_team" ON "registry_reviewpolicy" ((COALESCE("team_id", 0)));
CREATE INDEX "registry_reviewround_policy_id_7ccd4e81" ON "registry_reviewround" ("policy_id");
CREATE INDEX "registry_reviewround_submitted_by_id_cf6aa558" ON "registry_reviewround" ("submitted_by_id");
CREATE INDEX "registry_reviewround_version_id_e5b40d95" ON "registry_reviewround" ("version_id");
CREATE UNIQUE INDEX "one_open_round_per_version" ON "registry_reviewround" ("version_id") WHERE "status" = 'open';
CREATE INDEX "registry_review_reviewer_id_f8b74bb0" ON "registry_review" ("reviewer_id");
CREATE INDEX "registry_review_round_id_7475fdc5" ON "registry_review" ("round_id");
CREATE INDEX "registry_modelcard_updated_by_id_f7b409f9" ON "registry_modelcard" ("updated_by_id");
CREATE INDEX "registry_lineageedge_created_by_id_c8515a43" ON "registry_lineageedge" ("created_by_id");
CREATE INDEX "registry_lineageedge_source_id_ace4cfe2" ON "registry_lineageedge" ("source_id");
CREATE INDEX "registry_lineageedge_target_id_a6faddbc" ON "registry_lineageedge" ("target_id");
CREATE INDEX "lineage_edge_target_idx" ON "registry_lineageedge" ("target_id");
CREATE INDEX "registry_auditevent_created_at_41f55735" ON "registry_auditevent" ("created_at");
CREATE INDEX "registry_auditevent_actor_id_4f6acf35" ON "registry_auditevent" ("actor_id");
CREATE INDEX "registry_auditevent_team_id_138ce87e" ON "registry_auditevent" ("team_id");
CREATE INDEX "audit_target_idx" ON "registry_auditevent" ("target_type", "target_id");
CREATE INDEX "registry_webhook_created_by_id_a89d47db" ON "registry_webhook" ("created_by_id");
CREATE INDEX "registry_webhook_team_id_548f4668" ON "registry_webhook" ("team_id");
CREATE INDEX "registry_webhookdelivery_webhook_id_a930af3e" ON "registry_webhookdelivery" ("webhook_id");
CREATE INDEX "webhook_delivery_due_idx" ON "registry_webhookdelivery" ("status", "next_attempt_at");
CREATE INDEX "endpoint_status_idx" ON "registry_endpoint" ("status", "status_changed_at");
CREATE INDEX "endpoint_version_idx" ON "registry_endpoint" ("version_id");
CREATE UNIQUE INDEX "endpoint_name_unique_live" ON "registry_endpoint" ("name") WHERE NOT ("status" = 'deleted');
CREATE INDEX "registry_endpoint_created_by_id_606d7053" ON "registry_endpoint" ("created_by_id");
CREATE INDEX "registry_endpoint_deployed_version_id_3cacd114" ON "registry_endpoint" ("deployed_version_id");
CREATE INDEX "registry_endpoint_team_id_49b4d311" ON "registry_endpoint" ("team_id");
CREATE INDEX "registry_endpoint_version_id_271707d6" ON "registry_endpoint" ("version_id");
CREATE INDEX "registry_endpointkey_created_by_id_ed9141fc" ON "registry_endpointkey" ("created_by_id");
CREATE INDEX "registry_endpointkey_endpoint_id_3a089bf9" ON "registry_endpointkey" ("endpoint_id");
CREATE INDEX version_precedence_idx ON registry_assetversion (asset_id, major, minor, patch, (NOT is_prerelease), prerelease);
CREATE INDEX "marketplace_asset_created_by_id_ef14b5b2" ON "marketplace_asset" ("created_by_id");
CREATE INDEX "marketplace_asset_team_id_9dd432d4" ON "marketplace_asset" ("team_id");
CREATE INDEX "asset_kind_idx" ON "marketplace_asset" ("kind");
CREATE INDEX "asset_task_idx" ON "marketplace_asset" ("task");
CREATE INDEX "asset_license_upper_idx" ON "marketplace_asset" ((UPPER("license")));
CREATE INDEX "asset_framework_upper_idx" ON "marketplace_asset" ((UPPER("framework")));
CREATE INDEX "asset_updated_id_idx" ON "marketplace_asset" ("updated_at", "id");
CREATE INDEX "asset_created_id_idx" ON "marketplace_asset" ("created_at", "id");
CREATE INDEX "asset_name_slug_id_idx" ON "marketplace_asset" ("name", "slug", "id");
CREATE INDEX "asset_usage_id_idx" ON "marketplace_asset" ("usage_count", "updated_at", "id");
CREATE INDEX "asset_status_idx" ON "marketplace_asset" ("status");
CREATE INDEX "marketplace_searchchange_xid_a11c86c1" ON "marketplace_searchchange" ("xid");
CREATE INDEX "django_session_expire_date_a5c62663" ON "django_session" ("expire_date");
DELETE FROM "sqlite_sequence";
INSERT INTO "sqlite_sequence" VALUES('django_migrations',40);
INSERT INTO "sqlite_sequence" VALUES('django_admin_log',0);
INSERT INTO "sqlite_sequence" VALUES('django_content_type',31);
INSERT INTO "sqlite_sequence" VALUES('auth_permission',124);
INSERT INTO "sqlite_sequence" VALUES('auth_group',1);
INSERT INTO "sqlite_sequence" VALUES('auth_user',2);
INSERT INTO "sqlite_sequence" VALUES('marketplace_membership',1);
INSERT INTO "sqlite_sequence" VALUES('registry_versionfile',9);
INSERT INTO "sqlite_sequence" VALUES('marketplace_team',1);
INSERT INTO "sqlite_sequence" VALUES('registry_assetversion',9);
INSERT INTO "sqlite_sequence" VALUES('registry_reviewpolicy',1);
INSERT INTO "sqlite_sequence" VALUES('registry_reviewround',2);
INSERT INTO "sqlite_sequence" VALUES('registry_review',1);
INSERT INTO "sqlite_sequence" VALUES('registry_reviewpolicy_reviewer_groups',1);
INSERT INTO "sqlite_sequence" VALUES('registry_auditevent',44);
INSERT INTO "sqlite_sequence" VALUES('marketplace_facetcount',1);
INSERT INTO "sqlite_sequence" VALUES('marketplace_asset',9);
INSERT INTO "sqlite_sequence" VALUES('marketplace_searchstate',1);
INSERT INTO "sqlite_sequence" VALUES('marketplace_tag',12);
INSERT INTO "sqlite_sequence" VALUES('marketplace_asset_tags',33);
INSERT INTO "sqlite_sequence" VALUES('marketplace_searchterm',49);
INSERT INTO "sqlite_sequence" VALUES('registry_blob',9);
INSERT INTO "sqlite_sequence" VALUES('registry_validationreport',9);
INSERT INTO "sqlite_sequence" VALUES('registry_modelcard',9);
INSERT INTO "sqlite_sequence" VALUES('registry_lineageedge',5);
INSERT INTO "sqlite_sequence" VALUES('auth_user_groups',1);
INSERT INTO "sqlite_sequence" VALUES('registry_reviewround_reviewer_groups',2);
INSERT INTO "sqlite_sequence" VALUES('registry_versionsignature',1);
INSERT INTO "sqlite_sequence" VALUES('registry_alias',1);
INSERT INTO "sqlite_sequence" VALUES('marketplace_apitoken',1);
INSERT INTO "sqlite_sequence" VALUES('registry_webhook',1);
INSERT INTO "sqlite_sequence" VALUES('registry_webhookdelivery',1);
INSERT INTO "sqlite_sequence" VALUES('registry_endpoint',1);
INSERT INTO "sqlite_sequence" VALUES('registry_endpointkey',1);
INSERT INTO "sqlite_sequence" VALUES('marketplace_searchchange',1);
COMMIT;
