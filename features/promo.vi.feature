# language: vi
@PROMO
Tính năng: Hồ sơ thông báo khuyến mại được chuyển về được tiếp nhận và xử lý
  Thông báo khuyến mại nộp trên Cổng quốc gia được chuyển về Sở Công Thương của tỉnh, nơi phải
  tiếp nhận và xử lý.

  @PROMO-1
  Kịch bản: Thông báo khuyến mại đến Sở Công Thương và được xử lý
    Cho hệ thống của tỉnh đã khởi động và kết nối với các nền tảng quốc gia
    Khi một doanh nghiệp nộp thông báo khuyến mại trên Cổng quốc gia
    Thì Sở Công Thương của tỉnh tiếp nhận và xử lý đến cùng
    Và Cổng lưu hồ sơ của tỉnh: đã trả kết quả, toàn bộ lịch sử, do Sở xử lý

  @PROMO-2 @negative
  Kịch bản: Thông báo khuyến mại không chữ ký, giả mạo, bị sửa, phát lại, gửi lặp hoặc của tỉnh khác không làm thay đổi gì
    Cho hệ thống của tỉnh đã khởi động và kết nối với các nền tảng quốc gia
    Khi các thông báo khuyến mại không chữ ký, ký bằng khóa khác, bị sửa, bị phát lại, bị gửi hai lần hoặc gửi cho tỉnh khác đến điểm tiếp nhận của tỉnh
    Thì tỉnh từ chối mọi thông báo khuyến mại sai, giữ đúng một hồ sơ cho mỗi thông báo thật, và không có gì thay đổi ở tỉnh hay trên Cổng
