# language: vi
@SYNC
Tính năng: Hồ sơ được đồng bộ với Cổng Dịch vụ công quốc gia
  Mọi thay đổi trạng thái của hồ sơ đến được Cổng, đúng chuyển trạng thái và thời gian không lùi,
  để hai bên khớp 100%; Cổng gián đoạn chỉ làm chậm việc đồng bộ, không làm mất gì.

  @SYNC-1
  Kịch bản: Hồ sơ và lịch sử trên Cổng khớp với tỉnh từng trường một
    Cho mọi xã được chọn của tỉnh đã thực hiện hành trình của công dân
    Thì Cổng lưu toàn bộ lịch sử của từng hồ sơ đúng như tỉnh
    Và danh sách hồ sơ của tỉnh và của xã do trình điều khiển trả về có hồ sơ đó và không có hồ sơ nào của tỉnh hoặc xã khác

  @SYNC-2 @negative
  Kịch bản: Cổng gián đoạn lâu không làm mất gì
    Cho hệ thống của tỉnh đã khởi động và kết nối với các nền tảng quốc gia
    Khi API tích hợp của Cổng từ chối nhiều lần đồng bộ trong khi hồ sơ đang được xử lý, rồi hoạt động trở lại
    Thì Cổng lưu toàn bộ lịch sử của các hồ sơ đó đúng như tỉnh, mỗi lần chuyển trạng thái một lần

  @SYNC-3
  Kịch bản: Mỗi hồ sơ mang đủ những gì nó phải có, ghi đúng thời điểm
    Cho mọi xã được chọn của tỉnh đã thực hiện hành trình của công dân
    Thì mỗi hồ sơ trên Cổng ghi đơn vị xử lý là xã, có các trường mà trạng thái đòi hỏi, và ghi mỗi bước theo giờ Việt Nam vào lúc nó diễn ra
    Và hồ sơ ghi là nộp trực tuyến và, khi lệ phí đã thanh toán trực tuyến, ghi là đã thanh toán trực tuyến
    Và không bản ghi nào Cổng đã nhận mang ngày trả kết quả trước khi kết quả được trả

  @SYNC-4
  Kịch bản: Mỗi hồ sơ được tạo một lần và mỗi tiến độ được gửi một lần
    Cho mọi xã được chọn của tỉnh đã thực hiện hành trình của công dân
    Thì Cổng nhận việc tạo mỗi hồ sơ một lần và mỗi tiến độ của nó một lần

  @SYNC-5
  Kịch bản: Cổng không từ chối gì hệ thống của tỉnh gửi trong suốt lượt chạy
    Cho mọi xã được chọn của tỉnh đã thực hiện hành trình của công dân
    Thì Cổng không từ chối yêu cầu nào của hệ thống trong suốt lượt chạy, kể cả yêu cầu được gửi lại thành công sau đó
